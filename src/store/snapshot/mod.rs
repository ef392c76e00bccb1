//! Snapshots: a cache of what start-up needs, so it costs live state plus the records
//! since the last snapshot instead of all history (format: `snapshots/README.md`).
//!
//! Module map:
//! - [`wire`]: the frozen, versioned snapshot shapes.
//! - [`codec`]: bytes (magic, version tag, postcard, CRC-32C, strict decoding).
//! - [`convert`]: domain state <-> wire shapes.
//! - [`state`]: the snapshot state and the fold of the log tail into it.
//! - [`files`]: atomic writes under `<data_dir>/snapshots/`, keep the newest two.
//! - [`recovery`]: start-up = newest good snapshot + fold of the tail.
//! - [`digest`]: canonical SHA-256 of window states (replay vs running service).
//! - [`snapshotter`]: the background thread that writes snapshots.

pub mod codec;
pub mod convert;
mod convert_refunds;
mod convert_waitlist;
pub mod digest;
pub mod files;
pub mod recovery;
pub mod snapshotter;
pub mod state;
pub mod wire;

pub use digest::state_digest;
pub use files::SnapshotDir;
pub use recovery::{Recovered, recover, recover_at_startup};
pub use snapshotter::Snapshotter;
pub use state::{BadRecord, FoldOutcome, SnapshotState};
