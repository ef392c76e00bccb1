//! Why a backup could not be taken, read, verified or restored: each message says what
//! is wrong with which file, so an operator can act on it.

use crate::store::StoreError;
use crate::store::codec::DecodeError;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a qskip backup file (it does not start with the magic bytes {expected:?})")]
    Foreign { expected: &'static str },
    #[error("backup format version {found}; this qskip reads version {supported}")]
    Version { found: u32, supported: u32 },
    #[error("the backup header is corrupt: {0}")]
    Header(String),
    #[error("the backup is truncated: it ends after {read} of its {stated} records")]
    Truncated { read: u64, stated: u64 },
    #[error("the backup is truncated or corrupt: its trailer is {0}")]
    Trailer(String),
    #[error("record {seq} in the backup is {len} bytes, more than any record ({max})")]
    RecordTooLarge { seq: u64, len: usize, max: usize },
    #[error("record {seq} in the backup is corrupt: {source}")]
    Record { seq: u64, source: DecodeError },
    #[error("the backup body checksum does not match (stored {stored:#010x}, computed {computed:#010x})")]
    BodyChecksum { stored: u32, computed: u32 },
    #[error("the state digest does not match: the header states {stated}, the records fold to {computed}")]
    Digest { stated: String, computed: String },
    #[error("the log has no record {expected} (found {found} next): it cannot be backed up contiguously")]
    Gap { expected: u64, found: u64 },
    #[error("{0}")]
    Archive(String),
    #[error("the target {0} is not empty; restore only into a new or empty directory")]
    TargetNotEmpty(std::path::PathBuf),
    #[error("{0}")]
    Remote(String),
    #[error("the journal cannot confirm what is durable: {0}")]
    Journal(#[from] crate::store::JournalError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
