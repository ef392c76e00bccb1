//! A consistent position of a running service, taken without pausing sales.
//!
//! The journal is the log's only writer and applies each batch atomically, in order,
//! so the last key in sled is the end of a whole prefix of the log. Those records may
//! be applied but not yet flushed: an empty journal submission is a barrier that
//! resolves once everything submitted before it is durable, and everything already in
//! sled was submitted before it. So after the barrier, records `1..=cut` are durable,
//! never change again, and can be read at leisure while the journal keeps appending.

use super::BackupError;
use crate::store::{EventLog, Journal};

/// The log's last seq at a moment when every record up to it is durable.
pub async fn durable_cut(log: &EventLog, journal: &Journal) -> Result<u64, BackupError> {
    let cut = log.last_seq()?;
    let (_, barrier) = journal.append(Vec::new());
    barrier.await?;
    Ok(cut)
}
