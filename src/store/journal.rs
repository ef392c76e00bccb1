//! The group-commit journal: the only writer of the event log.
//!
//! Any number of actors submit batches of records. One OS thread (the writer) takes
//! every pending submission and writes them all in one atomic sled batch; a second
//! (the flusher) flushes sled once for every batch written so far (and fdatasyncs its
//! file), and only then completes each submission's future. The writer applies the next
//! batch while the flusher waits on the disk. So an
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

use super::codec::{Encoded, RecordTooLarge};
use super::log::{EventLog, StoreError};
use super::record::Record;
use crate::limits::{JOURNAL_BATCH_SUBMISSIONS_MAX, JOURNAL_QUEUE_BATCHES_MAX, JOURNAL_QUEUE_SUBMISSIONS_MAX};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("the event log could not be written: {0}")]
    WriteFailed(Arc<str>),
    #[error("the journal has stopped")]
    Stopped,
    /// One record of the submission is too large to store: that submission alone is
    /// refused (nothing of it written); the journal carries on.
    #[error(transparent)]
    RecordTooLarge(#[from] RecordTooLarge),
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
    records: Vec<Encoded>,
    reply: Reply,
}

#[derive(Debug, Clone, Copy, Default)]
struct DurableMark {
    ticket: u64,
    failed: bool,
}

struct Sender {
    next_ticket: u64,
    channel: Option<mpsc::SyncSender<Submission>>,
}

struct Inner {
    sender: Mutex<Sender>,
    durable: watch::Receiver<DurableMark>,
    failed: Arc<AtomicBool>,
    stats: Arc<JournalStats>,
    /// The writer, then the flusher: joined in that order on shutdown.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Handle to the journal; clones share the one writer.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

pub type OnFatal = Box<dyn Fn(&JournalError) + Send + Sync>;

impl Journal {
    /// Starts the writer thread on `log`.
    pub fn start(log: EventLog, options: JournalOptions, on_fatal: OnFatal) -> Result<Self, StoreError> {
        assert!(options.batch_submissions_max >= 1, "a batch holds at least one submission");
        let next_seq = log.last_seq()? + 1;
        let (channel, submissions) = mpsc::sync_channel(JOURNAL_QUEUE_SUBMISSIONS_MAX);
        let (to_flusher, applied) = mpsc::sync_channel(JOURNAL_QUEUE_BATCHES_MAX);
        let (durable_tx, durable) = watch::channel(DurableMark::default());
        let failed = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(JournalStats::default());
        let outcome = Arc::new(Outcome { durable: durable_tx, failed: failed.clone(), stats: stats.clone(), on_fatal });
        let flusher = Flusher { log: log.clone(), options, outcome: outcome.clone() };
        let writer = Writer { log, batch_submissions_max: options.batch_submissions_max, next_seq, outcome };
        let spawn = |name: &str| std::thread::Builder::new().name(name.into());
        let flush_thread = spawn("qskip-flush").spawn(move || flusher.run(applied))?;
        let write_thread = spawn("qskip-journal").spawn(move || writer.run(submissions, to_flusher))?;
        let sender = Mutex::new(Sender { next_ticket: 1, channel: Some(channel) });
        let threads = Mutex::new(vec![write_thread, flush_thread]);
        let inner = Inner { sender, durable, failed, stats, threads };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Submits records to be written in order; returns the submission's ticket and a
    /// future that resolves once they are durable (or at once with
    /// [`JournalError::RecordTooLarge`] if one of them cannot be stored). An empty submission is a barrier: it
    /// resolves once everything submitted before it is durable.
    pub fn append(
        &self,
        records: Vec<(DateTime<Utc>, Record)>,
    ) -> (u64, impl Future<Output = Result<(), JournalError>> + Send + 'static + use<>) {
        // Encoded on the caller's thread: the writer thread stays free of the work, and
        // an oversized record never reaches sled.
        let encoded: Result<Vec<Encoded>, RecordTooLarge> =
            records.into_iter().map(|(at, record)| Encoded::new(at, record)).collect();
        self.append_encoded(encoded)
    }

    /// [`Journal::append`] of records the caller has encoded already (a window actor
    /// encodes before it applies, to refuse an oversized record with nothing changed).
    pub fn append_encoded(
        &self,
        records: Result<Vec<Encoded>, RecordTooLarge>,
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

    fn submit(&self, records: Result<Vec<Encoded>, RecordTooLarge>, reply: Reply) -> u64 {
        let mut sender = self.inner.sender.lock().expect("journal sender lock is never poisoned: no panics under it");
        let records = match records {
            Ok(records) => records,
            Err(too_large) => {
                let _ = reply.send(Err(too_large.into()));
                // No ticket of its own: waiting on the previous one waits for everything
                // submitted before, and never for a submission that will not be written.
                return sender.next_ticket - 1;
            }
        };
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

    /// Stops accepting appends, lets both threads finish what they have, and waits.
    /// (The writer ends when the last sender is gone, and with it the flusher's input.)
    pub fn shutdown(&self) {
        self.inner.sender.lock().expect("journal sender lock is never poisoned").channel = None;
        let threads = std::mem::take(&mut *self.inner.threads.lock().expect("journal threads lock is never poisoned"));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// What both journal threads share: the durable mark, the failure flag and counters.
struct Outcome {
    durable: watch::Sender<DurableMark>,
    failed: Arc<AtomicBool>,
    stats: Arc<JournalStats>,
    on_fatal: OnFatal,
}

impl Outcome {
    /// Marks the journal failed (once: later failures only log) and tells `on_fatal`.
    fn fail(&self, error: &StoreError) -> JournalError {
        let journal_error = JournalError::WriteFailed(error.to_string().into());
        if !self.failed.swap(true, Ordering::AcqRel) {
            tracing::error!(%error, "journal write failed; failing every waiter and stopping");
            self.durable.send_modify(|m| m.failed = true);
            (self.on_fatal)(&journal_error);
        }
        journal_error
    }

    fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}

fn answer_all(replies: impl IntoIterator<Item = Reply>, result: &Result<(), JournalError>) {
    replies.into_iter().for_each(|reply| drop(reply.send(result.clone())));
}

/// A batch the writer has applied to sled, waiting for the flush that covers it.
struct Applied {
    last_ticket: u64,
    records: usize,
    replies: Vec<Reply>,
}

/// Takes up to `max` items: blocks for the first, then takes what is already queued.
fn take_batch<T>(receiver: &mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let mut batch = vec![receiver.recv().ok()?];
    batch.extend(receiver.try_iter().take(max - 1));
    Some(batch)
}

/// Applies batches to sled, in submission order, and hands them to the flusher. It
/// runs while the flusher makes the previous batch durable: apply (CPU) and flush
/// (I/O) overlap instead of taking turns.
struct Writer {
    log: EventLog,
    batch_submissions_max: usize,
    next_seq: u64,
    outcome: Arc<Outcome>,
}

impl Writer {
    fn run(mut self, receiver: mpsc::Receiver<Submission>, flusher: mpsc::SyncSender<Applied>) {
        while let Some(mut batch) = take_batch(&receiver, self.batch_submissions_max) {
            let last_ticket = batch.last().expect("take_batch returns at least one").ticket;
            let records: Vec<Encoded> = batch.iter_mut().flat_map(|s| s.records.drain(..)).collect();
            let replies: Vec<Reply> = batch.into_iter().map(|s| s.reply).collect();
            if self.outcome.is_failed() {
                answer_all(replies, &Err(JournalError::WriteFailed("earlier write failed".into())));
                continue;
            }
            if !records.is_empty() {
                if let Err(error) = self.log.write_encoded(self.next_seq, &records) {
                    answer_all(replies, &Err(self.outcome.fail(&error)));
                    continue;
                }
                self.next_seq += records.len() as u64;
                self.outcome.stats.records.fetch_add(records.len() as u64, Ordering::Relaxed);
            }
            let applied = Applied { last_ticket, records: records.len(), replies };
            if let Err(mpsc::SendError(applied)) = flusher.send(applied) {
                answer_all(applied.replies, &Err(JournalError::Stopped));
            }
        }
    }
}

/// Makes applied batches durable - one sled flush (+ fdatasync) for all batches
/// applied so far - and only then releases their waiters.
struct Flusher {
    log: EventLog,
    options: JournalOptions,
    outcome: Arc<Outcome>,
}

impl Flusher {
    fn run(self, receiver: mpsc::Receiver<Applied>) {
        while let Some(batches) = take_batch(&receiver, self.options.batch_submissions_max) {
            let last_ticket = batches.last().expect("take_batch returns at least one").last_ticket;
            let records: usize = batches.iter().map(|b| b.records).sum();
            let replies = batches.into_iter().flat_map(|b| b.replies);
            if self.outcome.is_failed() {
                answer_all(replies, &Err(JournalError::WriteFailed("earlier write failed".into())));
                continue;
            }
            if records > 0 {
                let started = std::time::Instant::now();
                if let Err(error) = self.log.make_durable(self.options.sync_data) {
                    answer_all(replies, &Err(self.outcome.fail(&error)));
                    continue;
                }
                let stats = &self.outcome.stats;
                stats.flush_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                stats.batches.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::record_journal_flush(records, started.elapsed());
            }
            self.outcome.durable.send_modify(|m| m.ticket = last_ticket);
            answer_all(replies, &Ok(()));
        }
    }
}
