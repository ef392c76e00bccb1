//! Snapshot files under `<data_dir>/snapshots/`: written atomically, named by the log
//! position they cover, the newest two kept.
//!
//! A crash at any point leaves either the old set of snapshots or the new one, never a
//! half-written file under a final name: the bytes go to a temporary file, which is
//! fsynced, renamed into place, and then the directory is fsynced so the rename itself
//! is durable.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::codec::{self, SnapshotDecodeError};
use super::convert;
use super::state::SnapshotState;
use crate::limits::SNAPSHOTS_KEPT;
use crate::store::{EventLog, StoreError};

/// Name of the snapshot directory inside the data dir.
pub const SNAPSHOT_DIR_NAME: &str = "snapshots";
const SUFFIX: &str = ".snap";
const TMP_SUFFIX: &str = ".snap.tmp";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotLoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Decode { path: PathBuf, source: SnapshotDecodeError },
}

/// The snapshot directory of one data dir.
#[derive(Debug, Clone)]
pub struct SnapshotDir {
    path: PathBuf,
}

impl SnapshotDir {
    pub fn of_data_dir(data_dir: &Path) -> Self {
        Self { path: data_dir.join(SNAPSHOT_DIR_NAME) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// File name of the snapshot covering `last_seq`: zero-padded, so names sort by seq.
    pub fn file_of(&self, last_seq: u64) -> PathBuf {
        self.path.join(format!("{last_seq:020}{SUFFIX}"))
    }

    /// Writes `state` of `log`, anchored to the log record it ends at (see
    /// `SnapshotV2`), atomically; returns its path. What the service writes.
    pub fn write_anchored(&self, state: &SnapshotState, log: &EventLog) -> Result<PathBuf, StoreError> {
        let anchor = match state.last_seq {
            0 => 0,
            seq => log.record_crc(seq)?.ok_or(StoreError::DanglingIndex { seq })?,
        };
        Ok(self.write_bytes(state.last_seq, &codec::encode(&convert::to_wire_anchored(state, anchor)))?)
    }

    /// Writes `state` without an anchor (a V1 snapshot: tests and benchmarks).
    pub fn write(&self, state: &SnapshotState) -> std::io::Result<PathBuf> {
        self.write_bytes(state.last_seq, &codec::encode(&convert::to_wire(state)))
    }

    /// Writes a snapshot's bytes atomically under the name of `last_seq`; then keeps
    /// only the newest `SNAPSHOTS_KEPT` snapshots.
    fn write_bytes(&self, last_seq: u64, bytes: &[u8]) -> std::io::Result<PathBuf> {
        fs::create_dir_all(&self.path)?;
        let state_last_seq = last_seq;
        let final_path = self.file_of(state_last_seq);
        let tmp = self.path.join(format!("{state_last_seq:020}{TMP_SUFFIX}"));
        {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &final_path)?;
        File::open(&self.path)?.sync_all()?;
        self.prune()?;
        Ok(final_path)
    }

    /// Snapshot files (seq, path), newest first. Leftover temporary files are ignored.
    pub fn list(&self) -> std::io::Result<Vec<(u64, PathBuf)>> {
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if let Some(seq) = name.strip_suffix(SUFFIX).and_then(|s| s.parse::<u64>().ok()) {
                found.push((seq, path));
            }
        }
        found.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        Ok(found)
    }

    /// Removes all but the newest `SNAPSHOTS_KEPT` snapshots, and stray temporary files.
    fn prune(&self) -> std::io::Result<()> {
        for (_, path) in self.list()?.into_iter().skip(SNAPSHOTS_KEPT) {
            fs::remove_file(path)?;
        }
        for entry in fs::read_dir(&self.path)? {
            let path = entry?.path();
            if path.to_str().is_some_and(|p| p.ends_with(TMP_SUFFIX)) {
                fs::remove_file(path)?;
            }
        }
        Ok(())
    }

    /// Reads and strictly decodes one snapshot file.
    pub fn load(path: &Path) -> Result<SnapshotState, SnapshotLoadError> {
        Self::load_anchored(path).map(|(state, _)| state)
    }

    /// [`SnapshotDir::load`], with the snapshot's anchor (`None` for a V1 file).
    pub fn load_anchored(path: &Path) -> Result<(SnapshotState, Option<u32>), SnapshotLoadError> {
        let decode = |source| SnapshotLoadError::Decode { path: path.to_owned(), source };
        let bytes = fs::read(path).map_err(|source| SnapshotLoadError::Read { path: path.to_owned(), source })?;
        let stored = codec::decode(&bytes).map_err(decode)?;
        let anchor = convert::anchor_of(&stored);
        let state = convert::from_wire(stored).map_err(|e| decode(SnapshotDecodeError::Invalid(e.0)))?;
        Ok((state, anchor))
    }

    /// The newest snapshot that belongs to `log`, which ends at `log_end`: at start-up.
    /// A snapshot ahead of the log's end, or whose anchor is not the checksum of the
    /// log's record at its position, describes another history: it is set aside
    /// (renamed to `*.snap.rejected`, kept for the operator) so it can never be loaded,
    /// even once the log grows past it again. A V1 snapshot carries no anchor and is
    /// checked as before. `None` means a full replay.
    pub fn latest_for_log(&self, log: &EventLog, log_end: u64) -> Option<SnapshotState> {
        for (seq, path) in self.list_logging_errors() {
            let belongs = match Self::load_anchored(&path) {
                _ if seq > log_end => Err(format!("it covers records up to {seq}; the log ends at {log_end}")),
                Ok((state, _)) if state.last_seq != seq => {
                    tracing::warn!(path = %path.display(), inner = state.last_seq, "snapshot name and content disagree; ignored");
                    continue;
                }
                Ok((state, Some(anchor))) => match log.record_crc(seq) {
                    Ok(Some(crc)) if crc == anchor => Ok(state),
                    Ok(found) => Err(format!("its anchor {anchor:#010x} is not the log's record {seq} ({found:x?})")),
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the log record a snapshot is anchored to; ignored");
                        continue;
                    }
                },
                Ok((state, None)) => Ok(state),
                Err(error) => {
                    tracing::warn!(%error, "unreadable snapshot ignored");
                    continue;
                }
            };
            match belongs {
                Ok(state) => return Some(state),
                Err(reason) => self.set_aside(&path, &reason),
            }
        }
        None
    }

    /// Renames a snapshot that does not belong to the log out of the way.
    fn set_aside(&self, path: &Path, reason: &str) {
        let aside = path.with_extension(format!("{}.rejected", SUFFIX.trim_start_matches('.')));
        match fs::rename(path, &aside) {
            Ok(()) => tracing::warn!(path = %path.display(), aside = %aside.display(), reason, "snapshot set aside"),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, reason, "snapshot ignored (cannot set it aside)")
            }
        }
    }

    fn list_logging_errors(&self) -> Vec<(u64, PathBuf)> {
        self.list().unwrap_or_else(|error| {
            tracing::warn!(dir = %self.path.display(), %error, "cannot list snapshots; replaying the whole log");
            Vec::new()
        })
    }

    /// The newest snapshot that decodes and covers no more than `log_end` (a snapshot
    /// beyond the end of the log describes records the log does not have). Every
    /// snapshot passed over is reported with a warning; `None` means a full replay.
    pub fn latest_good(&self, log_end: u64) -> Option<SnapshotState> {
        let files = self.list().unwrap_or_else(|error| {
            tracing::warn!(dir = %self.path.display(), %error, "cannot list snapshots; replaying the whole log");
            Vec::new()
        });
        for (seq, path) in files {
            if seq > log_end {
                tracing::warn!(path = %path.display(), log_end, "snapshot covers records the log does not have; ignored");
                continue;
            }
            match Self::load(&path) {
                Ok(state) if state.last_seq == seq => return Some(state),
                Ok(state) => {
                    tracing::warn!(path = %path.display(), inner = state.last_seq, "snapshot name and content disagree; ignored");
                }
                Err(error) => tracing::warn!(%error, "unreadable snapshot ignored"),
            }
        }
        None
    }
}
