//! Start-up recovery: the newest good snapshot plus the log records after it.
//!
//! The cost is reading one snapshot (live state) and folding the records written since
//! it, not all history. Without a usable snapshot it is a full replay, which yields the
//! same state, only slower: snapshots are a cache, the log is the truth.

use chrono::{DateTime, Utc};

use super::files::SnapshotDir;
use super::state::{BadRecord, SnapshotState};
use crate::store::{EventLog, StoreError};

/// What recovery rebuilt, and from where.
#[derive(Debug)]
pub struct Recovered {
    /// Venues and every window that is not settled, at the end of the log.
    pub state: SnapshotState,
    /// The log position of the snapshot it started from; `None` = full replay.
    pub snapshot_seq: Option<u64>,
    /// Records folded on top of the snapshot.
    pub records_folded: u64,
    /// Records that could not be folded; their windows refuse service.
    pub bad: Vec<BadRecord>,
}

/// Rebuilds the state at the end of `log`; windows settled at `now` are left out.
pub fn recover(log: &EventLog, dir: &SnapshotDir, now: DateTime<Utc>) -> Result<Recovered, StoreError> {
    let log_end = log.last_seq()?;
    let snapshot = dir.latest_for_log(log, log_end);
    let snapshot_seq = snapshot.as_ref().map(|s| s.last_seq);
    let mut state = snapshot.unwrap_or_else(SnapshotState::empty);
    let outcome = state.fold_tail(log, log_end)?;
    state.drop_settled(now);
    for bad in &outcome.bad {
        let window = bad.window.as_ref().map(ToString::to_string);
        tracing::error!(seq = bad.seq, ?window, reason = %bad.reason, "corrupt record: its window refuses service");
    }
    Ok(Recovered { state, snapshot_seq, records_folded: outcome.records, bad: outcome.bad })
}

/// What `Application::build` runs before anything else touches the log: drop a torn
/// tail (a crash mid-write; never acknowledged), then [`recover`].
pub fn recover_at_startup(log: &EventLog, dir: &SnapshotDir, now: DateTime<Utc>) -> Result<Recovered, StoreError> {
    let torn = log.drop_torn_tail()?;
    if !torn.is_empty() {
        tracing::warn!(seqs = ?torn, "dropped undecodable records at the end of the log (torn by a crash, never acknowledged)");
    }
    let started = std::time::Instant::now();
    let recovered = recover(log, dir, now)?;
    tracing::info!(
        snapshot = ?recovered.snapshot_seq,
        records = recovered.records_folded,
        windows = recovered.state.windows.len(),
        millis = started.elapsed().as_millis() as u64,
        "recovered state from the newest good snapshot and the log after it"
    );
    Ok(recovered)
}
