//! The log's records as their exact stored bytes: read for a backup, written back by a
//! restore. Bytes are copied, never re-encoded, so a restored log is byte-for-byte the
//! backed-up one (old record versions stay old), while the indexes are rebuilt from the
//! decoded records by the one index rule in [`keys::index_entries`].

use super::codec;
use super::keys;
use super::log::{EventLog, StoreError};
use super::record::Record;

impl EventLog {
    /// The stored bytes of the records with seq in `[from, through]`, in commit order.
    /// Log records are never rewritten once written, so a range at or below a durable
    /// position reads the same bytes however long the iteration takes.
    pub fn raw_range(
        &self,
        from: u64,
        through: u64,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + use<> {
        self.db.range(keys::log(from)..=keys::log(through)).map(|entry| {
            let (key, bytes) = entry?;
            let seq = keys::log_seq(&key).expect("every L key is 9 bytes");
            Ok((seq, bytes))
        })
    }

    /// Writes records given as their stored bytes as seqs `first_seq..`, atomically,
    /// with every index entry their decoded form implies. Each record is decoded
    /// (checksum included) first; a bad one fails the whole batch. Not durable until
    /// [`EventLog::make_durable`] returns.
    pub fn write_raw_batch(&self, first_seq: u64, records: &[Vec<u8>]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (offset, bytes) in records.iter().enumerate() {
            let seq = first_seq + offset as u64;
            let (_, record): (_, Record) =
                codec::decode(bytes).map_err(|source| StoreError::Corrupt { seq, source })?;
            batch.insert(&keys::log(seq)[..], bytes.as_slice());
            for op in keys::index_entries(seq, &record) {
                match op {
                    keys::IndexOp::Insert(key, value) => batch.insert(key, value),
                    keys::IndexOp::Remove(key) => batch.remove(key),
                }
            }
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }
}
