//! The background snapshotter: its own thread, no coordination with window actors.
//!
//! It keeps the state of its previous snapshot in memory and, once enough records
//! follow it (polled every `SNAPSHOT_POLL_INTERVAL_MS`) and once more on graceful
//! shutdown, folds the log tail written since into it and writes the result.
//!
//! "Enough" is `snapshot_every_events` or the number of reservations the last snapshot
//! held, whichever is larger. Writing a snapshot costs time in proportion to the state,
//! so with a fixed interval a large state (many live holds) would make every record pay
//! for rewriting it again and again (measured: 3-7% of the server's CPU under the spread
//! load of `cargo bench --bench http_load`). With the larger of the two, the cost per
//! record stays bounded, and start-up still folds at most as many records after the
//! snapshot as the snapshot holds: start-up stays proportional to the live state. The tail is read from sled in commit order after a flush, so every record it
//! covers is durable and the snapshot is consistent at its log position by
//! construction, whatever the actors are doing meanwhile.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::files::SnapshotDir;
use super::state::SnapshotState;
use crate::clock::Clock;
use crate::limits::SNAPSHOT_POLL_INTERVAL_MS;
use crate::store::{EventLog, StoreError};

enum Message {
    Stop { final_snapshot: bool },
}

/// Handle to the snapshotter thread; `stop` it to join.
pub struct Snapshotter {
    tx: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

struct Worker {
    log: EventLog,
    dir: SnapshotDir,
    clock: Arc<dyn Clock>,
    every: u64,
    state: SnapshotState,
    /// Reservations in `state` as of the last snapshot (see the module header).
    state_reservations: u64,
}

impl Snapshotter {
    /// Starts the thread from `state` (the recovered state at its `last_seq`).
    pub fn start(
        log: EventLog,
        dir: SnapshotDir,
        clock: Arc<dyn Clock>,
        every: u64,
        state: SnapshotState,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let state_reservations = reservations_in(&state);
        let worker = Worker { log, dir, clock, every: every.max(1), state, state_reservations };
        let thread = std::thread::Builder::new().name("qskip-snapshot".into()).spawn(move || worker.run(rx))?;
        Ok(Self { tx, thread: Some(thread) })
    }

    /// Stops the thread, after a last snapshot when `final_snapshot` (graceful stop).
    pub fn stop(mut self, final_snapshot: bool) {
        let _ = self.tx.send(Message::Stop { final_snapshot });
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Worker {
    fn run(mut self, rx: mpsc::Receiver<Message>) {
        let poll = Duration::from_millis(SNAPSHOT_POLL_INTERVAL_MS);
        loop {
            match rx.recv_timeout(poll) {
                Err(RecvTimeoutError::Timeout) => self.snapshot_if_due(),
                Ok(Message::Stop { final_snapshot }) => {
                    if final_snapshot {
                        self.snapshot_logging_errors();
                    }
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn snapshot_if_due(&mut self) {
        match self.log.last_seq() {
            Ok(end) if end >= self.state.last_seq + self.every.max(self.state_reservations) => {
                self.snapshot_logging_errors()
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "snapshotter cannot read the log end"),
        }
    }

    /// A failed snapshot costs only start-up time later: report it and go on.
    fn snapshot_logging_errors(&mut self) {
        if let Err(error) = self.snapshot() {
            tracing::warn!(%error, "snapshot not written");
        }
    }

    fn snapshot(&mut self) -> Result<(), StoreError> {
        let through = self.log.last_seq()?;
        if through == self.state.last_seq && self.dir.list()?.first().is_some_and(|(seq, _)| *seq == through) {
            return Ok(());
        }
        // Everything up to `through` is written; make it durable before a snapshot
        // claims it, or a power loss could leave a snapshot ahead of the log.
        self.log.make_durable(true)?;
        let outcome = self.state.fold_tail(&self.log, through)?;
        self.state.drop_settled(self.clock.now());
        let path = self.dir.write_anchored(&self.state, &self.log)?;
        self.state_reservations = reservations_in(&self.state);
        let (windows, bad) = (self.state.windows.len(), outcome.bad.len());
        tracing::info!(path = %path.display(), seq = through, windows, records = outcome.records, bad, "snapshot written");
        Ok(())
    }
}

fn reservations_in(state: &SnapshotState) -> u64 {
    state.windows.values().map(|window| window.reservations().count() as u64).sum()
}
