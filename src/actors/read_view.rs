//! The read view of window counts: what availability reads are answered from, so a
//! flash crowd opening the booking page does not queue behind (and slow down) the
//! reservations in the window actors' mailboxes.
//!
//! Window actors write it only with counts that are durable: when their outbox releases
//! a change (after the journal's flush), and when they start from recovered state
//! (read from the log). A reader therefore never sees a count that is not durable; it
//! may see one a few milliseconds old, as if it had read a moment earlier. Each entry
//! keeps its window's earliest hold expiry: from that instant on the entry is not used
//! (the actor is asked, which counts the expired hold out) until the window publishes
//! again, so an expiry shows at once even before its `HoldExpired` is written.
//!
//! Windows known to have no events are remembered too, so a day of mostly empty windows
//! costs no storage lookups. A window gets events only through its actor, which writes
//! here on its first durable change, and an opened entry always wins over "no events":
//! a stale "no events" can only show the schedule's counts from before that change.
//! Both maps are bounded by `READ_VIEW_WINDOWS_MAX`; beyond it they are cleared (a
//! cache: readers fall back to asking the windows).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::domain::{WindowCounts, WindowKey};
use crate::limits::READ_VIEW_WINDOWS_MAX;

/// What the view knows of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Its latest durable counts and their live-hub version.
    Opened(WindowCounts, u64),
    /// It had no events when last read: its counts follow from its schedule.
    Unopened,
    Unknown,
}

/// An opened window's durable counts, their version, and until when they hold.
#[derive(Debug, Clone, Copy)]
struct Entry {
    counts: WindowCounts,
    version: u64,
    /// The earliest expiry of a hold counted in `counts`.
    next_expiry: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Maps {
    opened: HashMap<WindowKey, Entry>,
    unopened: HashSet<WindowKey>,
}

/// Cheap to clone: every clone is the same view.
#[derive(Clone, Default)]
pub struct ReadView {
    maps: Arc<RwLock<Maps>>,
}

impl ReadView {
    /// Records durable counts of the opened window `key`, valid until `next_expiry` (its
    /// earliest hold expiry); an older version never replaces a newer one.
    pub fn publish(&self, key: &WindowKey, counts: WindowCounts, version: u64, next_expiry: Option<DateTime<Utc>>) {
        let mut maps = self.maps.write().expect("read view lock is never poisoned: no panics under it");
        if maps.opened.len() >= READ_VIEW_WINDOWS_MAX && !maps.opened.contains_key(key) {
            maps.opened.clear();
        }
        let fresh = Entry { counts, version, next_expiry };
        let entry = maps.opened.entry(key.clone()).or_insert(fresh);
        if entry.version <= version {
            *entry = fresh;
        }
    }

    /// Remembers that `key` had no events when it was read.
    pub fn mark_unopened(&self, key: &WindowKey) {
        let mut maps = self.maps.write().expect("read view lock is never poisoned: no panics under it");
        if maps.unopened.len() >= READ_VIEW_WINDOWS_MAX {
            maps.unopened.clear();
        }
        maps.unopened.insert(key.clone());
    }

    /// What the view knows of `key` at `now` (an entry past a hold's expiry is unknown).
    pub fn get(&self, key: &WindowKey, now: DateTime<Utc>) -> Seen {
        self.maps.read().expect("read view lock is never poisoned: no panics under it").seen(key, now)
    }

    /// [`ReadView::get`] of every key, in order, under one lock: a day of windows is
    /// one lock round instead of 96.
    pub fn get_many<'k>(&self, keys: impl IntoIterator<Item = &'k WindowKey>, now: DateTime<Utc>) -> Vec<Seen> {
        let maps = self.maps.read().expect("read view lock is never poisoned: no panics under it");
        keys.into_iter().map(|key| maps.seen(key, now)).collect()
    }
}

impl Maps {
    fn seen(&self, key: &WindowKey, now: DateTime<Utc>) -> Seen {
        match self.opened.get(key) {
            Some(e) if e.next_expiry.is_some_and(|at| at <= now) => Seen::Unknown,
            Some(e) => Seen::Opened(e.counts, e.version),
            None if self.unopened.contains(key) => Seen::Unopened,
            None => Seen::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(minutes: i64) -> WindowKey {
        let start = chrono::DateTime::from_timestamp(1_795_899_600 + minutes * 60, 0).expect("a valid time");
        WindowKey::new(crate::domain::VenueId::parse("bar").expect("a valid id"), start)
    }

    fn counts(held: u32) -> WindowCounts {
        WindowCounts { capacity: 10, held, confirmed: 0, available: 10 - held, overcommitted: false, waitlisted: 0 }
    }

    #[test]
    fn the_newest_version_wins_and_opened_beats_unopened() {
        let (view, now) = (ReadView::default(), key(0).start);
        assert_eq!(view.get(&key(0), now), Seen::Unknown);
        view.mark_unopened(&key(0));
        assert_eq!(view.get(&key(0), now), Seen::Unopened);
        view.publish(&key(0), counts(2), 7, None);
        view.publish(&key(0), counts(1), 5, None);
        assert_eq!(view.get(&key(0), now), Seen::Opened(counts(2), 7), "an older version does not win");
        view.mark_unopened(&key(0));
        assert_eq!(view.get(&key(0), now), Seen::Opened(counts(2), 7), "a stale 'no events' does not hide events");
    }

    #[test]
    fn counts_are_not_used_once_a_hold_in_them_has_expired() {
        let (view, now) = (ReadView::default(), key(0).start);
        view.publish(&key(0), counts(1), 1, Some(now + chrono::Duration::minutes(30)));
        assert_eq!(view.get(&key(0), now), Seen::Opened(counts(1), 1));
        let both = view.get_many([&key(0), &key(15)], now + chrono::Duration::minutes(30));
        assert_eq!(both, vec![Seen::Unknown, Seen::Unknown], "get_many sees what get sees");
        assert_eq!(view.get(&key(0), now + chrono::Duration::minutes(30)), Seen::Unknown);
    }
}
