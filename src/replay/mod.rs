//! The replay tool: rebuild every window from the log, in commit order, with the same
//! `apply` the service uses, and check the invariants at every event.
//!
//! A violation (a grant beyond capacity, a late confirmation without room, an illegal
//! transition, an unreadable record) is reported with its log position and the event is
//! skipped, so one bad record does not hide the rest of the history.

mod report;

use std::collections::BTreeMap;

pub use report::{Report, ViolationReport, WindowReport};

use crate::domain::{Venue, VenueEvent, VenueId, Window, WindowKey};
use crate::store::{EventLog, Record, StoreError};

/// Which windows to report on (the whole log is always read and checked).
pub use crate::domain::WindowFilter as Filter;

/// Rebuilds all state from `log`. `on_progress(done, total)` is called now and then.
pub fn replay(log: &EventLog, filter: &Filter, mut on_progress: impl FnMut(u64, u64)) -> Result<Report, StoreError> {
    let total = log.last_seq()?;
    let mut venues: BTreeMap<VenueId, Venue> = BTreeMap::new();
    let mut windows: BTreeMap<WindowKey, Window> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut records = 0;
    for (index, entry) in log.iter().enumerate() {
        if index % 10_000 == 0 {
            on_progress(index as u64, total);
        }
        records += 1;
        let (seq, _, record) = match entry {
            Ok(entry) => entry,
            Err(StoreError::Corrupt { seq, source }) => {
                violations.push(ViolationReport { seq, window: None, message: format!("unreadable record: {source}") });
                continue;
            }
            Err(other) => return Err(other),
        };
        match record {
            Record::Venue(VenueEvent::VenueRegistered(venue)) => drop(venues.insert(venue.id.clone(), venue)),
            Record::Window(key, event) => {
                let window = windows.entry(key.clone()).or_insert_with(|| Window::unopened(key.clone(), 0));
                match window.audit(&event) {
                    Ok(()) => window.apply(&event),
                    Err(violation) => violations.push(ViolationReport {
                        seq,
                        window: Some(key.to_string()),
                        message: violation.to_string(),
                    }),
                }
            }
            Record::Idempotency(_) => {}
        }
    }
    on_progress(total, total);
    let windows = windows.values().filter(|w| filter.matches(w.key())).map(WindowReport::of).collect();
    Ok(Report { records, venues: venues.len(), windows, violations })
}

/// Writes every record (optionally of one venue) as a JSON line: `{seq, record}`, the
/// record in its wire form (times in microseconds since the epoch).
pub fn dump_events(log: &EventLog, venue: Option<&VenueId>, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    for entry in log.iter() {
        let (seq, at, record) = entry?;
        let of_venue = |id: &VenueId| venue.is_none_or(|v| v == id);
        let keep = match &record {
            Record::Venue(VenueEvent::VenueRegistered(v)) => of_venue(&v.id),
            Record::Window(key, _) => of_venue(&key.venue_id),
            Record::Idempotency(entry) => of_venue(&entry.venue_id),
        };
        if keep {
            let wire = crate::store::convert::to_wire(at, &record);
            writeln!(out, "{}", serde_json::json!({ "seq": seq, "record": wire }))?;
        }
    }
    Ok(())
}
