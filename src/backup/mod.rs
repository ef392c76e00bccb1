//! Backups and continuous archiving: a single-node operator can lose the disk and keep
//! every sale (format: `backups/README.md`).
//!
//! A backup is one file: a header (position, record count, state digest at that
//! position, checksum), then every log record up to that position as its exact stored
//! bytes (each already CRC-framed), then a trailer (count, checksum of the body). An
//! archive segment has the same format and covers the records after the previous one.
//!
//! Module map:
//! - [`format`]: header and trailer bytes.
//! - [`write`]: streaming a range of the log into a file or an HTTP body.
//! - [`read`]: reading a file back, checking every checksum and its completeness.
//! - [`cut`]: a consistent position of a running service, without pausing sales.
//! - [`producer`]: the low-priority thread that folds and streams a backup in the service.
//! - [`pace`]: holds a backup's reads inside a running service to a set rate.
//! - [`restore`]: building a new data dir from a backup plus archive; `verify`.
//! - [`archive`]: the background task that appends newly durable records to segments.
//! - [`atomic`]: files that appear complete or not at all (tmp, fsync, rename).
//! - [`client`]: the `qskip backup` command (admin API or a stopped data dir).

pub mod archive;
pub mod atomic;
pub mod client;
pub mod cut;
mod error;
pub mod format;
pub mod pace;
pub mod producer;
pub mod read;
pub mod restore;
pub mod write;

pub use error::BackupError;
pub use format::Header;
