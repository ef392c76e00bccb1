//! The group-commit journal: the only writer of the event log.
//!
//! Any number of actors submit batches of records. One OS thread takes every pending
//! submission, writes them all in one atomic sled batch, flushes sled once (and
//! fdatasyncs its file), and only then completes each submission's future. So an
//! acknowledged record is on disk, and a hot system pays one flush per *batch*, not per
//! request. Submissions are numbered by a ticket in channel order; `durable` publishes
//! the highest ticket on disk, which lets a reader wait until everything it has seen is
//! durable. A failed write is fatal: every waiter gets an error, later appends fail at
//! once, and `on_fatal` is told so the process can stop instead of running with memory
//! ahead of the log.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use tokio::sync::{oneshot, watch};

use super::log::{EventLog, StoreError};
use super::record::Record;
use crate::limits::JOURNAL_BATCH_SUBMISSIONS_MAX;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("the event log could not be written: {0}")]
    WriteFailed(Arc<str>),
    #[error("the journal has stopped")]
    Stopped,
}

#[derive(Debug, Clone, Copy)]
pub struct JournalOptions {
    /// Most submissions per flush; 1 turns group commit off (for benchmarks).
    pub batch_submissions_max: usize,
    /// fdatasync sled's file after each flush (power-loss durability).
    pub sync_data: bool,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self { batch_submissions_max: JOURNAL_BATCH_SUBMISSIONS_MAX, sync_data: true }
    }
}

/// Counters for benchmarks and metrics.
#[derive(Debug, Default)]
pub struct JournalStats {
    pub batches: AtomicU64,
    pub records: AtomicU64,
    pub flush_micros: AtomicU64,
}

type Reply = oneshot::Sender<Result<(), JournalError>>;

struct Submission {
    ticket: u64,
    records: Vec<(DateTime<Utc>, Record)>,
    reply: Reply,
}

#[derive(Debug, Clone, Copy, Default)]
struct DurableMark {
    ticket: u64,
    failed: bool,
}

struct Sender {
    next_ticket: u64,
    channel: Option<mpsc::Sender<Submission>>,
}

struct Inner {
    sender: Mutex<Sender>,
    durable: watch::Receiver<DurableMark>,
    failed: Arc<AtomicBool>,
    stats: Arc<JournalStats>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// Handle to the journal; clones share the one writer.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

pub type OnFatal = Box<dyn Fn(&JournalError) + Send>;

impl Journal {
    /// Starts the writer thread on `log`.
    pub fn start(log: EventLog, options: JournalOptions, on_fatal: OnFatal) -> Result<Self, StoreError> {
        assert!(options.batch_submissions_max >= 1, "a batch holds at least one submission");
        let next_seq = log.last_seq()? + 1;
        let (channel, receiver) = mpsc::channel();
        let (durable_tx, durable) = watch::channel(DurableMark::default());
        let failed = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(JournalStats::default());
        let writer =
            Writer { log, options, next_seq, durable: durable_tx, failed: failed.clone(), stats: stats.clone() };
        let handle =
            std::thread::Builder::new().name("qskip-journal".into()).spawn(move || writer.run(receiver, on_fatal))?;
        let sender = Mutex::new(Sender { next_ticket: 1, channel: Some(channel) });
        let inner = Inner { sender, durable, failed, stats, writer: Mutex::new(Some(handle)) };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Submits records to be written in order; returns the submission's ticket and a
    /// future that resolves once they are durable. An empty submission is a barrier: it
    /// resolves once everything submitted before it is durable.
    pub fn append(
        &self,
        records: Vec<(DateTime<Utc>, Record)>,
    ) -> (u64, impl Future<Output = Result<(), JournalError>> + Send + 'static + use<>) {
        let (reply, done) = oneshot::channel();
        let ticket = self.submit(records, reply);
        let failed = self.inner.failed.clone();
        let wait = async move {
            match done.await {
                Ok(result) => result,
                Err(_) if failed.load(Ordering::Acquire) => {
                    Err(JournalError::WriteFailed("earlier write failed".into()))
                }
                Err(_) => Err(JournalError::Stopped),
            }
        };
        (ticket, wait)
    }

    fn submit(&self, records: Vec<(DateTime<Utc>, Record)>, reply: Reply) -> u64 {
        let mut sender = self.inner.sender.lock().expect("journal sender lock is never poisoned: no panics under it");
        let ticket = sender.next_ticket;
        sender.next_ticket += 1;
        let submission = Submission { ticket, records, reply };
        match &sender.channel {
            Some(channel) if !self.is_failed() => {
                if let Err(mpsc::SendError(s)) = channel.send(submission) {
                    let _ = s.reply.send(Err(JournalError::Stopped));
                }
            }
            _ => {
                let error = if self.is_failed() {
                    JournalError::WriteFailed("earlier write failed".into())
                } else {
                    JournalError::Stopped
                };
                let _ = submission.reply.send(Err(error));
            }
        }
        ticket
    }

    /// Resolves once every submission up to `ticket` is durable (at once if it is).
    pub fn wait_durable(&self, ticket: u64) -> impl Future<Output = Result<(), JournalError>> + Send + 'static + use<> {
        let mut durable = self.inner.durable.clone();
        async move {
            let mark = durable
                .wait_for(|m| m.ticket >= ticket || m.failed)
                .await
                .map(|m| *m)
                .map_err(|_| JournalError::Stopped)?;
            match mark.ticket >= ticket {
                true => Ok(()),
                false => Err(JournalError::WriteFailed("earlier write failed".into())),
            }
        }
    }

    /// True when every submission up to `ticket` is durable.
    pub fn is_durable(&self, ticket: u64) -> bool {
        self.inner.durable.borrow().ticket >= ticket
    }

    /// True once a write has failed; the service is then not ready.
    pub fn is_failed(&self) -> bool {
        self.inner.failed.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> &JournalStats {
        &self.inner.stats
    }

    /// Stops accepting appends, lets the writer finish what it has, and waits for it.
    pub fn shutdown(&self) {
        self.inner.sender.lock().expect("journal sender lock is never poisoned").channel = None;
        let handle = self.inner.writer.lock().expect("journal writer lock is never poisoned").take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

struct Writer {
    log: EventLog,
    options: JournalOptions,
    next_seq: u64,
    durable: watch::Sender<DurableMark>,
    failed: Arc<AtomicBool>,
    stats: Arc<JournalStats>,
}

impl Writer {
    fn run(mut self, receiver: mpsc::Receiver<Submission>, on_fatal: OnFatal) {
        let mut batch = Vec::new();
        while let Ok(first) = receiver.recv() {
            batch.push(first);
            while batch.len() < self.options.batch_submissions_max {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            if let Err(error) = self.commit(&mut batch) {
                tracing::error!(%error, "journal write failed; failing every waiter and stopping");
                let error = JournalError::WriteFailed(error.to_string().into());
                self.failed.store(true, Ordering::Release);
                self.durable.send_modify(|m| m.failed = true);
                batch.drain(..).chain(receiver.try_iter()).for_each(|s| drop(s.reply.send(Err(error.clone()))));
                on_fatal(&error);
                receiver.iter().for_each(|s| drop(s.reply.send(Err(error.clone()))));
                return;
            }
        }
    }

    /// Writes and makes durable every record of `batch`, then releases its waiters.
    fn commit(&mut self, batch: &mut Vec<Submission>) -> Result<(), StoreError> {
        let records: Vec<(DateTime<Utc>, Record)> = batch.iter_mut().flat_map(|s| s.records.drain(..)).collect();
        if !records.is_empty() {
            let started = std::time::Instant::now();
            self.log.write_batch(self.next_seq, &records)?;
            self.log.make_durable(self.options.sync_data)?;
            self.next_seq += records.len() as u64;
            self.stats.flush_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
            self.stats.records.fetch_add(records.len() as u64, Ordering::Relaxed);
        }
        let last_ticket = batch.last().expect("a batch holds at least one submission").ticket;
        self.durable.send_modify(|m| m.ticket = last_ticket);
        batch.drain(..).for_each(|s| drop(s.reply.send(Ok(()))));
        Ok(())
    }
}
