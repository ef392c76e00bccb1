//! A window's held reservations ordered by expiry (the next to expire first).
//!
//! Most windows hold a few live holds at a time: a sorted `Vec` then costs 28 bytes a
//! hold, where a `BTreeSet` allocates a whole node (room for eleven) even for one,
//! about 330 bytes. A hot window (thousands of live holds) moves to the `BTreeSet`
//! once it holds more than [`FEW_MAX`], so inserting and removing stay logarithmic
//! there; it moves back only once empty. Which of the two holds the entries is not
//! part of the value: equality and `Debug` see only the ordered entries.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::ReservationId;

/// Entries kept in a sorted `Vec` before the queue moves to a `BTreeSet`: up to here
/// an insert or removal moves at most about 1 KiB.
const FEW_MAX: usize = 32;

type Entry = (DateTime<Utc>, ReservationId);

#[derive(Clone)]
pub(super) enum ExpiryQueue {
    Few(Vec<Entry>),
    Many(BTreeSet<Entry>),
}

impl Default for ExpiryQueue {
    fn default() -> Self {
        Self::Few(Vec::new())
    }
}

impl ExpiryQueue {
    /// Adds an entry; false if it was already queued.
    pub(super) fn insert(&mut self, entry: Entry) -> bool {
        match self {
            Self::Few(entries) => match entries.binary_search(&entry) {
                Ok(_) => false,
                Err(at) if entries.len() < FEW_MAX => {
                    entries.insert(at, entry);
                    true
                }
                Err(_) => {
                    let mut set: BTreeSet<Entry> = entries.drain(..).collect();
                    set.insert(entry);
                    *self = Self::Many(set);
                    true
                }
            },
            Self::Many(set) => set.insert(entry),
        }
    }

    /// Removes an entry; false if it was not queued.
    pub(super) fn remove(&mut self, entry: &Entry) -> bool {
        match self {
            Self::Few(entries) => match entries.binary_search(entry) {
                Ok(at) => {
                    entries.remove(at);
                    if entries.is_empty() {
                        // A window whose holds all ended gives their memory back.
                        *entries = Vec::new();
                    }
                    true
                }
                Err(_) => false,
            },
            Self::Many(set) => {
                let removed = set.remove(entry);
                if set.is_empty() {
                    *self = Self::default();
                }
                removed
            }
        }
    }

    pub(super) fn first(&self) -> Option<&Entry> {
        match self {
            Self::Few(entries) => entries.first(),
            Self::Many(set) => set.first(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.first().is_none()
    }

    /// In expiry order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry> {
        let (few, many) = match self {
            Self::Few(entries) => (Some(entries.iter()), None),
            Self::Many(set) => (None, Some(set.iter())),
        };
        few.into_iter().flatten().chain(many.into_iter().flatten())
    }
}

impl PartialEq for ExpiryQueue {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for ExpiryQueue {}

impl std::fmt::Debug for ExpiryQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u32) -> Entry {
        let at = DateTime::from_timestamp(1_795_899_600 + i64::from(n % 7) * 60, 0).expect("a valid time");
        (at, ReservationId::from_uuid(uuid::Uuid::from_u128(u128::from(n))))
    }

    #[test]
    fn keeps_expiry_order_across_both_forms_and_equal_contents_are_equal() {
        let (mut queue, mut reference) = (ExpiryQueue::default(), BTreeSet::new());
        for n in (0..100).rev() {
            assert_eq!(queue.insert(entry(n)), reference.insert(entry(n)));
            assert!(queue.iter().eq(reference.iter()), "after inserting {n}");
        }
        assert!(matches!(queue, ExpiryQueue::Many(_)), "a hot window moves to the B-tree");
        assert!(!queue.insert(entry(3)), "an entry is queued once");
        let small: ExpiryQueue = ExpiryQueue::Few(vec![entry(1)]);
        let big = ExpiryQueue::Many(BTreeSet::from([entry(1)]));
        assert_eq!(small, big, "the form is not part of the value");
        for n in 0..100 {
            assert_eq!(queue.first(), reference.first());
            assert_eq!(queue.remove(&entry(n)), reference.remove(&entry(n)));
            assert!(!queue.remove(&entry(n)), "removed once");
        }
        assert!(queue.is_empty());
        assert!(matches!(queue, ExpiryQueue::Few(ref v) if v.capacity() == 0), "an empty queue holds no memory");
    }
}
