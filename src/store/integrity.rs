//! Finding and removing damage in the log: a torn record at its end, and the window a
//! damaged record belongs to.
//!
//! Both scan whole indexes, which costs time proportional to history; they run only
//! once damage is found, never on the normal path.

use std::collections::BTreeSet;

use super::codec;
use super::keys;
use super::log::{EventLog, StoreError};
use crate::domain::WindowKey;

impl EventLog {
    /// The window of the record at `seq`, read from the `W` index keys (which contain
    /// venue, start and seq), so it is found even when the record itself is unreadable.
    pub fn window_of_seq(&self, seq: u64) -> Result<Option<WindowKey>, StoreError> {
        for key in self.db.scan_prefix([keys::WINDOW]).keys() {
            if let Some((window, found)) = keys::parse_window_index(&key?)
                && found == seq
            {
                return Ok(Some(window));
            }
        }
        Ok(None)
    }

    /// Removes undecodable records at the very end of the log, with every index entry
    /// that points at them, and makes that durable. Such a record was torn by a crash
    /// while being written, so it was never acknowledged (answers wait for the flush).
    /// Returns the seqs removed. Must run before the journal starts.
    pub fn drop_torn_tail(&self) -> Result<Vec<u64>, StoreError> {
        let mut torn = BTreeSet::new();
        for entry in self.db.scan_prefix([keys::LOG]).rev() {
            let (key, bytes) = entry?;
            if codec::decode(&bytes).is_ok() {
                break;
            }
            torn.insert(keys::log_seq(&key).expect("every L key is 9 bytes"));
        }
        if torn.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = sled::Batch::default();
        for seq in &torn {
            batch.remove(&keys::log(*seq)[..]);
        }
        // W and V keys end with the seq; R, K, O and S entries hold it as their value.
        for tag in [keys::WINDOW, keys::VENUE] {
            for key in self.db.scan_prefix([tag]).keys() {
                let key = key?;
                if key.len() >= 9 && torn.contains(&keys::trailing_seq(&key)) {
                    batch.remove(key);
                }
            }
        }
        for tag in [keys::RESERVATION, keys::IDEMPOTENCY, keys::REFUND_OWED, keys::CHECKOUT_OPEN] {
            for entry in self.db.scan_prefix([tag]) {
                let (key, value) = entry?;
                let seq = <[u8; 8]>::try_from(value.as_ref()).map(u64::from_be_bytes);
                if seq.is_ok_and(|seq| torn.contains(&seq)) {
                    batch.remove(key);
                }
            }
        }
        self.db.apply_batch(batch)?;
        self.make_durable(true)?;
        Ok(torn.into_iter().collect())
    }
}
