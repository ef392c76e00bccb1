//! Replay's state while it folds: every window (settled or not), venues, and what went
//! wrong, with a window lookup made for a fold of millions of records.
//!
//! A record names its window by key (a venue id and a start). Consecutive records
//! mostly belong to the same window, so the last window found is checked first (one
//! string compare, no hashing); other windows are found through a hash index. Windows
//! live in a `Vec` in order of first appearance, sorted by key only once, at the end.
//! The key of a record is moved into the state only when its window is new: no clone
//! per record.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::ViolationReport;
use crate::domain::{Venue, VenueId, Window, WindowEvent, WindowKey};
use crate::store::{EventLog, LogEntry, Record, StoreError};

#[derive(Default)]
pub(super) struct Replayed {
    pub venues: BTreeMap<VenueId, Venue>,
    windows: Vec<Window>,
    index: HashMap<WindowKey, usize>,
    /// Position in `windows` of the window the previous record touched.
    last: Option<usize>,
    pub violations: Vec<ViolationReport>,
    /// Windows with a violation: their replayed state skips the offending event.
    pub damaged: BTreeSet<WindowKey>,
}

impl Replayed {
    /// Folds one entry: applies it after its audit, or records why it cannot be.
    pub fn fold(&mut self, log: &EventLog, entry: LogEntry) -> Result<(), StoreError> {
        let (seq, record) = match entry {
            Ok((seq, _, record)) => (seq, record),
            Err(StoreError::Corrupt { seq, source }) => {
                // The record is unreadable, but its W index key names its window.
                let window = log.window_of_seq(seq)?;
                self.damaged.extend(window.clone());
                let message = format!("unreadable record: {source}");
                self.violations.push(ViolationReport { seq, window: window.map(|w| w.to_string()), message });
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        match record {
            Record::Venue(event) => drop(self.venues.insert(event.venue().id.clone(), event.venue().clone())),
            Record::Window(key, event) => self.fold_window_event(seq, key, &event),
            Record::Idempotency(_) => {}
        }
        Ok(())
    }

    fn fold_window_event(&mut self, seq: u64, key: WindowKey, event: &WindowEvent) {
        let at = self.position_of(key);
        let window = &mut self.windows[at];
        match window.audit(event) {
            Ok(()) => window.apply(event),
            Err(violation) => {
                let key = window.key().clone();
                let (window, message) = (Some(key.to_string()), violation.to_string());
                self.violations.push(ViolationReport { seq, window, message });
                self.damaged.insert(key);
            }
        }
    }

    /// The position of the window with `key`, opened (as unopened) if it is new.
    fn position_of(&mut self, key: WindowKey) -> usize {
        if let Some(last) = self.last.filter(|&at| self.windows[at].key() == &key) {
            return last;
        }
        let at = match self.index.get(&key) {
            Some(&at) => at,
            None => {
                let at = self.windows.len();
                self.index.insert(key.clone(), at);
                self.windows.push(Window::unopened(key, 0));
                at
            }
        };
        self.last = Some(at);
        at
    }

    /// The window with `key`, if the fold has met it.
    pub fn window(&self, key: &WindowKey) -> Option<&Window> {
        self.index.get(key).map(|&at| &self.windows[at])
    }

    /// Every window, in key order (what the report and the digest need).
    pub fn sorted_windows(&self) -> Vec<&Window> {
        let mut sorted: Vec<&Window> = self.windows.iter().collect();
        sorted.sort_unstable_by(|a, b| a.key().cmp(b.key()));
        sorted
    }
}
