//! The state a snapshot holds, and how the log tail after it is folded in.
//!
//! Folding is the one way snapshot state is built - by the start-up recovery, by the
//! background snapshotter and by tests - so a snapshot is consistent at a log position
//! by construction: it is exactly "previous state + records (last_seq, through]". It
//! uses the domain's `audit` + `apply` like the replay tool, so a record that is
//! unreadable or illegal takes its window out of the state (it will refuse service)
//! instead of crashing start-up or producing a wrong state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::domain::{Venue, VenueId, Window, WindowEvent, WindowKey};
use crate::store::{EventLog, Record, StoreError};

/// Every venue, and every window that is not settled, as of log position `last_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotState {
    pub last_seq: u64,
    /// When the state was last pruned of settled windows.
    pub taken_at: DateTime<Utc>,
    pub venues: BTreeMap<VenueId, Venue>,
    pub windows: BTreeMap<WindowKey, Window>,
}

/// A record that cannot be folded: its window is left out of the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub seq: u64,
    /// Found through the `W` index when the record itself is unreadable.
    pub window: Option<WindowKey>,
    pub reason: String,
}

/// What one fold did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldOutcome {
    pub records: u64,
    pub bad: Vec<BadRecord>,
}

impl SnapshotState {
    /// The state before the first record.
    pub fn empty() -> Self {
        Self { last_seq: 0, taken_at: DateTime::<Utc>::UNIX_EPOCH, venues: BTreeMap::new(), windows: BTreeMap::new() }
    }

    /// Folds the records with seq in `(last_seq, through]`, in commit order.
    pub fn fold_tail(&mut self, log: &EventLog, through: u64) -> Result<FoldOutcome, StoreError> {
        let mut outcome = FoldOutcome::default();
        for entry in log.iter_range(self.last_seq + 1, through) {
            outcome.records += 1;
            match entry {
                Ok((seq, _, record)) => self.fold_record(log, seq, record, &mut outcome.bad)?,
                Err(StoreError::Corrupt { seq, source }) => {
                    let window = log.window_of_seq(seq)?;
                    if let Some(key) = &window {
                        self.windows.remove(key);
                    }
                    outcome.bad.push(BadRecord { seq, window, reason: format!("unreadable record: {source}") });
                }
                Err(other) => return Err(other),
            }
        }
        self.last_seq = self.last_seq.max(through);
        Ok(outcome)
    }

    fn fold_record(
        &mut self,
        log: &EventLog,
        seq: u64,
        record: Record,
        bad: &mut Vec<BadRecord>,
    ) -> Result<(), StoreError> {
        let (key, event) = match record {
            Record::Venue(event) => {
                let venue = event.venue().clone();
                self.venues.insert(venue.id.clone(), venue);
                return Ok(());
            }
            Record::Idempotency(_) => return Ok(()),
            Record::Window(key, event) => (key, event),
        };
        if let Some(window) = self.windows.get_mut(&key) {
            match window.audit(&event) {
                Ok(()) => window.apply(&event),
                Err(violation) => {
                    self.windows.remove(&key);
                    bad.push(BadRecord { seq, window: Some(key), reason: violation.to_string() });
                }
            }
            return Ok(());
        }
        // A window not in the state is either new (its first event opens it) or was
        // settled and left out: then its own index rebuilds it up to this record.
        let events = match event {
            WindowEvent::WindowOpened { .. } => Ok(vec![(seq, event)]),
            _ => log.window_events_through(&key, seq),
        };
        let loaded = events.map_err(|e| (seq, e.to_string())).and_then(|events| fold_window(&key, events));
        match loaded {
            Ok(window) => drop(self.windows.insert(key, window)),
            Err((seq, reason)) => bad.push(BadRecord { seq, window: Some(key), reason }),
        }
        Ok(())
    }

    /// Leaves out windows that are settled at `now` (see `Window::is_settled`).
    pub fn drop_settled(&mut self, now: DateTime<Utc>) {
        self.windows.retain(|_, window| !window.is_settled(now));
        self.taken_at = now;
    }
}

/// Folds one window's events, checking each; the first illegal one names its seq.
pub fn fold_window(key: &WindowKey, events: Vec<(u64, WindowEvent)>) -> Result<Window, (u64, String)> {
    let mut window = Window::unopened(key.clone(), 0);
    for (seq, event) in events {
        window.audit(&event).map_err(|violation| (seq, violation.to_string()))?;
        window.apply(&event);
    }
    Ok(window)
}
