//! A window's held reservations ordered by expiry (the next to expire first), in a
//! [`CompactMap`]: a window with one live hold spends 28 bytes on it, where a
//! `BTreeSet` allocated a whole node (room for eleven, about 330 bytes).

use chrono::{DateTime, Utc};

use super::ReservationId;
use super::window_compact_map::CompactMap;

type Entry = (DateTime<Utc>, ReservationId);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ExpiryQueue(CompactMap<Entry, ()>);

impl ExpiryQueue {
    /// Adds an entry; false if it was already queued.
    pub(super) fn insert(&mut self, entry: Entry) -> bool {
        self.0.insert(entry, ()).is_none()
    }

    /// Removes an entry; false if it was not queued.
    pub(super) fn remove(&mut self, entry: &Entry) -> bool {
        self.0.remove(entry).is_some()
    }

    pub(super) fn first(&self) -> Option<&Entry> {
        self.0.first().map(|(entry, ())| entry)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// In expiry order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.0.iter().map(|(entry, ())| entry)
    }
}
