//! The replay tool: rebuild every window from the log, in commit order, with the same
//! `apply` the service uses, and check the invariants at every event.
//!
//! A violation (a grant beyond capacity, a late confirmation without room, an illegal
//! transition, an unreadable record) is reported with its log position and the event is
//! skipped, so one bad record does not hide the rest of the history.

mod report;
mod snapshot_check;
mod state;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

pub use report::{Report, ViolationReport, WindowReport};
pub use snapshot_check::SnapshotCheck;

use crate::domain::{VenueId, Window};
use crate::store::snapshot::{SnapshotDir, SnapshotState, state_digest};
use crate::store::{EventLog, Record, StoreError};
use state::Replayed;

/// Which windows to report on (the whole log is always read and checked).
pub use crate::domain::WindowFilter as Filter;

/// Rebuilds all state from `log`. `on_progress(done, total)` is called now and then.
/// The newest readable snapshot in `snapshots` is compared with the state at its
/// position.
pub fn replay(
    log: &EventLog,
    snapshots: &SnapshotDir,
    filter: &Filter,
    mut on_progress: impl FnMut(u64, u64),
) -> Result<Report, StoreError> {
    let total = log.last_seq()?;
    let (snapshot, unreadable) = snapshot_check::newest_readable(snapshots);
    let mut check = None;
    let mut state = Replayed::default();
    let mut records = 0;
    for (index, entry) in log.iter().enumerate() {
        if index % PROGRESS_EVERY == 0 {
            on_progress(index as u64, total);
        }
        records += 1;
        let seq = match &entry {
            Ok((seq, _, _)) | Err(StoreError::Corrupt { seq, .. }) => *seq,
            Err(_) => 0,
        };
        if let Some((path, saved)) = snapshot.as_ref().filter(|(_, s)| check.is_none() && seq > s.last_seq) {
            check = Some(state.check(path, saved));
        }
        state.fold(log, entry)?;
    }
    if let Some((path, saved)) = snapshot.as_ref().filter(|_| check.is_none()) {
        check = Some(state.check(path, saved));
    }
    on_progress(total, total);
    let mut shown: Vec<&Window> = state.sorted_windows();
    shown.retain(|w| filter.matches(w.key()));
    let digest = state_digest(shown.iter().copied());
    let windows = shown.into_iter().map(WindowReport::of).collect();
    let venues = state.venues.len();
    let violations = state.violations;
    Ok(Report { records, venues, windows, violations, digest, snapshot: check, unreadable_snapshots: unreadable })
}

/// The state digest after records `1..=through`, folded exactly as [`replay`] folds
/// them (every window, settled or not): what a backup states in its header and what a
/// restore checks. Also returns how many violations the fold met.
pub fn digest_through(log: &EventLog, through: u64) -> Result<(String, usize), StoreError> {
    digest_through_each(log, through, || {})
}

/// [`digest_through`], calling `each` after every record (a backup paces its reads).
pub fn digest_through_each(
    log: &EventLog,
    through: u64,
    mut each: impl FnMut(),
) -> Result<(String, usize), StoreError> {
    let mut state = Replayed::default();
    for entry in log.iter_range(1, through) {
        state.fold(log, entry)?;
        each();
    }
    Ok((state_digest(state.sorted_windows()), state.violations.len()))
}

/// Records between two progress reports.
const PROGRESS_EVERY: usize = 10_000;

impl Replayed {
    fn check(&mut self, path: &std::path::Path, saved: &SnapshotState) -> SnapshotCheck {
        let matches = snapshot_check::compare(saved, self);
        let path = path.display().to_string();
        SnapshotCheck { path, seq: saved.last_seq, windows: saved.windows.len(), matches }
    }
}

/// Writes a fresh snapshot of the whole log into `snapshots` (`--rebuild-snapshots`);
/// windows settled at `now` are left out, as the service does. Returns its path.
pub fn rebuild_snapshot(log: &EventLog, snapshots: &SnapshotDir, now: DateTime<Utc>) -> anyhow::Result<PathBuf> {
    let mut state = SnapshotState::empty();
    let outcome = state.fold_tail(log, log.last_seq()?)?;
    anyhow::ensure!(outcome.bad.is_empty(), "the log has {} bad records; not writing a snapshot", outcome.bad.len());
    state.drop_settled(now);
    Ok(snapshots.write_anchored(&state, log)?)
}

/// Writes every record (optionally of one venue) as a JSON line: `{seq, record}`, the
/// record in its wire form (times in microseconds since the epoch).
pub fn dump_events(log: &EventLog, venue: Option<&VenueId>, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    for entry in log.iter() {
        let (seq, at, record) = entry?;
        let of_venue = |id: &VenueId| venue.is_none_or(|v| v == id);
        let keep = match &record {
            Record::Venue(event) => of_venue(&event.venue().id),
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
