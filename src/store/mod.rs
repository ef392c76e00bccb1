//! Durable storage: the event log in sled, its postcard wire format, and the
//! group-commit journal that makes appends durable before anyone is answered.
//!
//! Module map:
//! - [`wire`]: the frozen, versioned record shapes (what bytes on disk mean).
//! - [`codec`]: record <-> bytes (version tag, postcard payload, CRC-32C).
//! - [`frame`]: the one checksum framing of records and snapshot files.
//! - [`keys`]: the key layout in sled (log, per-window index, lookup indexes).
//! - [`log`]: opening the database and reading it (one window, all history, indexes).
//! - [`read_ahead`]: reading a long range in commit order, decoded on a helper thread.
//! - [`journal`]: the single writer thread: batch, write, flush, fdatasync, release.
//! - [`fault`]: the test seam that makes log writes fail or stall.

pub mod codec;
pub mod convert;
mod convert_refund;
mod convert_waitlist;
pub mod fault;
pub mod frame;
mod integrity;
pub mod journal;
pub mod keys;
pub mod log;
mod raw;
pub mod read_ahead;
mod record;
pub mod snapshot;
pub mod wire;

pub use journal::{Journal, JournalError, JournalOptions};
pub use log::{EventLog, OwedRefund, StoreError};
pub use read_ahead::{LogEntry, ReadAhead};
pub use record::{IdempotencyEntry, IdempotentOutcome, Record};
