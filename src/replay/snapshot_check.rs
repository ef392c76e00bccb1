//! Comparing the state replay rebuilt with the newest snapshot, at the snapshot's log
//! position.
//!
//! A snapshot is a cache of the log: every window it holds must equal the replayed
//! window right after record `last_seq`, every window replay finds unsettled at the
//! snapshot's time must be in it, and so must every venue. Any difference is reported
//! as a violation (a snapshot that disagrees with its log would make start-up wrong).
//! Windows that replay itself found a violation in are left out: the snapshotter folds
//! those differently on purpose (it drops them).

use std::path::PathBuf;

use serde::Serialize;

use super::report::ViolationReport;
use super::state::Replayed;
use crate::domain::WindowKey;
use crate::store::snapshot::{SnapshotDir, SnapshotState};

/// Which snapshot replay compared with, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotCheck {
    pub path: String,
    /// The log position it covers.
    pub seq: u64,
    pub windows: usize,
    /// True when every window and venue matched.
    pub matches: bool,
}

/// The newest snapshot that can be read, with the ones skipped for being unreadable.
pub fn newest_readable(dir: &SnapshotDir) -> (Option<(PathBuf, SnapshotState)>, Vec<String>) {
    let mut unreadable = Vec::new();
    for (_, path) in dir.list().unwrap_or_default() {
        match SnapshotDir::load(&path) {
            Ok(state) => return (Some((path, state)), unreadable),
            Err(error) => unreadable.push(error.to_string()),
        }
    }
    (None, unreadable)
}

/// Compares `snapshot` with replay's state after record `snapshot.last_seq`; pushes a
/// violation per difference and returns whether everything matched.
pub(super) fn compare(snapshot: &SnapshotState, replayed: &mut Replayed) -> bool {
    let skip = &replayed.damaged;
    let mut found = Vec::new();
    let mut differ = |window: Option<&WindowKey>, message: &str| {
        let window = window.map(ToString::to_string);
        found.push(ViolationReport { seq: snapshot.last_seq, window, message: message.into() });
    };
    if snapshot.venues != replayed.venues {
        differ(None, "snapshot venues differ from the log");
    }
    for (key, saved) in snapshot.windows.iter().filter(|(key, _)| !skip.contains(key)) {
        match replayed.window(key) {
            Some(window) if window == saved => {}
            Some(_) => differ(Some(key), "snapshot state of this window differs from the log"),
            None => differ(Some(key), "snapshot holds a window the log does not have"),
        }
    }
    for window in replayed.sorted_windows() {
        let (key, live) = (window.key(), !window.is_settled(snapshot.taken_at));
        if live && !skip.contains(key) && !snapshot.windows.contains_key(key) {
            differ(Some(key), "live window missing from the snapshot");
        }
    }
    let matches = found.is_empty();
    replayed.violations.extend(found);
    matches
}
