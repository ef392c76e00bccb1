//! The simulated disk: the event log as sled holds it, and the snapshot files.
//!
//! Records are the real codec's bytes. An append goes to memory (a sled batch written
//! but not flushed); a flush makes every written batch durable, or fails. A crash keeps
//! the durable records, any prefix of the unflushed batches (sled may have written
//! some in the background) and possibly a torn record after them, as a power cut mid
//! write would. Snapshot files are written whole or not at all (write + rename).

use super::rng::Rng;
use crate::store::codec;

#[derive(Default)]
pub struct Disk {
    /// Durable records; record `i` has log seq `i + 1`.
    durable: Vec<Vec<u8>>,
    /// Written, not yet flushed: one batch per submission (sled batches are atomic).
    unflushed: Vec<Vec<Vec<u8>>>,
    /// Snapshot files `(last_seq, bytes)`, newest last; the newest two are kept.
    snapshots: Vec<(u64, Vec<u8>)>,
}

impl Disk {
    /// Writes one submission's records; returns their seqs.
    pub fn append(&mut self, batch: Vec<Vec<u8>>) -> std::ops::RangeInclusive<u64> {
        let first = self.written_len() + 1;
        let last = first + batch.len() as u64 - 1;
        self.unflushed.push(batch);
        first..=last
    }

    /// Every record written, durable or not, in seq order (what sled reads return).
    pub fn written(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.durable.iter().chain(self.unflushed.iter().flatten())
    }

    pub fn written_len(&self) -> u64 {
        (self.durable.len() + self.unflushed.iter().map(Vec::len).sum::<usize>()) as u64
    }

    pub fn durable(&self) -> &[Vec<u8>] {
        &self.durable
    }

    pub fn has_unflushed(&self) -> bool {
        !self.unflushed.is_empty()
    }

    /// Makes every written batch durable.
    pub fn flush(&mut self) {
        for batch in self.unflushed.drain(..) {
            self.durable.extend(batch);
        }
    }

    /// The process dies: some unflushed batches survive, maybe followed by a torn record.
    pub fn crash(&mut self, rng: &mut Rng) {
        let kept = rng.below(self.unflushed.len() as u64 + 1) as usize;
        let mut batches = std::mem::take(&mut self.unflushed).into_iter();
        for batch in batches.by_ref().take(kept) {
            self.durable.extend(batch);
        }
        if let Some(next) = batches.next().and_then(|b| b.into_iter().next())
            && rng.chance(50)
        {
            self.durable.push(tear(next, rng));
        }
    }

    /// Start-up's first act (`EventLog::drop_torn_tail`): undecodable records at the
    /// end of the log were torn by a crash, never acknowledged, and are removed.
    pub fn drop_torn_tail(&mut self) -> usize {
        let mut dropped = 0;
        while self.durable.last().is_some_and(|bytes| codec::decode(bytes).is_err()) {
            self.durable.pop();
            dropped += 1;
        }
        dropped
    }

    pub fn write_snapshot(&mut self, last_seq: u64, bytes: Vec<u8>) {
        self.snapshots.push((last_seq, bytes));
        if self.snapshots.len() > 2 {
            self.snapshots.remove(0);
        }
    }

    /// Snapshot files, newest first.
    pub fn snapshots(&self) -> impl Iterator<Item = &(u64, Vec<u8>)> {
        self.snapshots.iter().rev()
    }
}

/// A record cut short, or with its last bytes never written (zeros).
fn tear(mut bytes: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    let cut = rng.below(bytes.len() as u64) as usize;
    if rng.chance(50) {
        bytes.truncate(cut);
    } else {
        bytes[cut..].fill(0);
    }
    bytes
}
