//! What the notifier has done, kept beside the log (`<data_dir>/notify/ledger.json`) so
//! that a restart neither loses an offer nor mails one twice (short of a crash between
//! the server's acceptance and this file's write: delivery is at least once).
//!
//! `cursor`: every offer record at or below this log seq is done. `done`: the offer
//! records above it that are done too (mailed, given up, or not to be mailed). The file
//! is rewritten whole (temp file, fsync, rename), and stays small: `done` only holds
//! offers beyond the oldest one still waiting.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    pub cursor: u64,
    pub done: BTreeSet<u64>,
}

pub struct Ledger {
    path: PathBuf,
    pub state: LedgerState,
    /// What the file holds now: an unchanged state is not written again.
    written: LedgerState,
}

impl Ledger {
    /// Reads the ledger of `data_dir`; a missing file is a fresh start (cursor 0: every
    /// offer in the log is looked at, and only the ones still open are mailed).
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let dir = data_dir.join("notify");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("ledger.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => LedgerState::default(),
            Err(e) => return Err(e),
        };
        Ok(Self { path, written: state.clone(), state })
    }

    /// Moves the cursor to `cursor` (everything at or below it is done) and forgets the
    /// done marks it covers.
    pub fn advance(&mut self, cursor: u64) {
        self.state.cursor = self.state.cursor.max(cursor);
        let cursor = self.state.cursor;
        self.state.done.retain(|&seq| seq > cursor);
    }

    /// Writes the state if it changed; durable once this returns `Ok`.
    pub fn save(&mut self) -> std::io::Result<()> {
        if self.state == self.written {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&self.state).map_err(std::io::Error::other)?;
        let temp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_data()?;
        std::fs::rename(&temp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        self.written = self.state.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_survives_a_reopen_and_forgets_what_the_cursor_covers() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut ledger = Ledger::open(dir.path()).expect("opens");
        assert_eq!(ledger.state, LedgerState::default());
        ledger.state.done.extend([5, 9, 12]);
        ledger.advance(9);
        ledger.save().expect("saves");
        let reopened = Ledger::open(dir.path()).expect("reopens");
        assert_eq!(reopened.state, LedgerState { cursor: 9, done: BTreeSet::from([12]) });
    }
}
