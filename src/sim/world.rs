//! The simulated world: clock, disk, process, Stripe and customers, and the step loop
//! that interleaves them with faults. Every choice comes from the seeded [`Rng`], so a
//! seed is a complete recipe for a run.
//!
//! Crash points are named ([`CrashPoint`]): after an append (records written, not
//! flushed), at a failed flush (I/O error: the journal stops the process), after a
//! flush but before the answers go out, in the middle of a snapshot, and between a
//! refund made at Stripe and its record. A crash loses memory and unflushed records
//! (or some of them), then the process boots from what the disk holds.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};

use super::disk::Disk;
use super::rng::Rng;
use super::server::{Executed, Server};
use super::stripe::{Delivery, Stripe};
use crate::domain::{Command, ReservationId, Venue, WindowKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    AfterAppend,
    FlushFailed,
    AfterFlushBeforeReply,
    MidSnapshot,
    AfterRefundBeforeRecord,
    Kill,
}

/// A planted bug, to prove the invariants catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// The refund worker makes a refund without first looking for an earlier one.
    RefundWithoutLooking,
    /// The journal answers before the flush (an answer can outlive a crash's losses).
    AnswerBeforeFlush,
    /// The refund worker drops a debt after one failed call.
    DropFailedRefund,
    /// The refund worker acts on debts written but not yet durable (the bug fixed in
    /// `RefundWorker::pass`).
    RefundUndurableDebt,
}

/// A hold the customer was told about (201 held).
#[derive(Debug, Clone)]
pub struct Hold {
    pub id: ReservationId,
    pub key: WindowKey,
    pub amount: u64,
    pub currency: String,
}

/// Who waits for an answer that goes out at the next successful flush.
#[derive(Debug)]
pub enum Waiter {
    Reserve(Hold),
    Webhook(Delivery),
    /// Cancels, refund records, timers: nobody acts on the answer.
    Nobody,
}

pub struct Pending {
    pub waiter: Waiter,
    pub answered_ok: bool,
    pub seqs: Option<RangeInclusive<u64>>,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub steps: u64,
    pub records: u64,
    pub crashes: u64,
    pub snapshots: u64,
    pub payments: u64,
    pub deliveries: u64,
    pub refunds: u64,
}

impl Stats {
    /// Adds another run's counts (totals over many seeds).
    pub fn add(&mut self, other: &Stats) {
        self.steps += other.steps;
        self.records += other.records;
        self.crashes += other.crashes;
        self.snapshots += other.snapshots;
        self.payments += other.payments;
        self.deliveries += other.deliveries;
        self.refunds += other.refunds;
    }
}

pub struct World {
    pub rng: Rng,
    pub now: DateTime<Utc>,
    pub venues: Vec<Venue>,
    pub disk: Disk,
    pub server: Server,
    pub stripe: Stripe,
    pub holds: Vec<Hold>,
    pub window_of: BTreeMap<ReservationId, WindowKey>,
    pub pending: Vec<Pending>,
    /// Every record whose answer went out: `(seq, bytes)`; they must survive anything.
    pub acknowledged: Vec<(u64, Vec<u8>)>,
    /// Probability (percent) of each injected fault; 0 in the final drain.
    pub fault_percent: u64,
    pub mutation: Option<Mutation>,
    /// Debts the `DropFailedRefund` mutation gave up on.
    pub dropped: Vec<String>,
    pub trace: bool,
    pub stats: Stats,
}

impl World {
    pub fn new(seed: u64) -> Result<Self, String> {
        let mut rng = Rng::new(seed);
        let start = DateTime::from_timestamp(1_795_896_000, 0).expect("a valid instant");
        let now = start + Duration::seconds(rng.below(86_400) as i64);
        let venues = super::venues(&mut rng);
        let mut disk = Disk::default();
        let server = Server::boot(&mut disk, &venues, now)?;
        let (stripe, holds, window_of, pending) = (Stripe::default(), Vec::new(), BTreeMap::new(), Vec::new());
        let stats = Stats::default();
        Ok(Self {
            rng,
            now,
            venues,
            disk,
            server,
            stripe,
            holds,
            window_of,
            pending,
            acknowledged: Vec::new(),
            fault_percent: 1,
            mutation: None,
            dropped: Vec::new(),
            trace: false,
            stats,
        })
    }

    /// True with the run's fault probability scaled by `weight`.
    pub fn fault(&mut self, weight: u64) -> bool {
        self.fault_percent > 0 && self.rng.below(100) < self.fault_percent * weight
    }

    /// Runs a command and queues its answer until the next flush.
    pub fn execute(&mut self, key: &WindowKey, command: Command, waiter: Waiter) -> Result<(), String> {
        let Executed { answer, seqs } = self.server.execute(&mut self.disk, key, &command, self.now)?;
        self.log(|| {
            format!("{key} {command:?} -> {:?} seqs {seqs:?}", answer.as_ref().map(|v| v.as_ref().map(|v| v.status)))
        });
        if let Some(seqs) = &seqs {
            self.stats.records += seqs.end() - seqs.start() + 1;
        }
        self.pending.push(Pending { waiter, answered_ok: answer.is_ok(), seqs });
        if self.mutation == Some(Mutation::AnswerBeforeFlush) {
            self.answer_pending();
        }
        if self.fault(1) {
            return self.crash(CrashPoint::AfterAppend);
        }
        Ok(())
    }

    /// The journal's flush: durable, then every queued answer goes out.
    pub fn flush(&mut self) -> Result<(), String> {
        if self.disk.has_unflushed() && self.fault(2) {
            return self.crash(CrashPoint::FlushFailed);
        }
        self.disk.flush();
        self.log(|| format!("flush: durable through {}", self.disk.durable().len()));
        if self.fault(1) {
            return self.crash(CrashPoint::AfterFlushBeforeReply);
        }
        self.answer_pending();
        super::check::live_matches_log(self)
    }

    /// Every queued answer goes out: customers learn of their holds, Stripe gets 2xx.
    fn answer_pending(&mut self) {
        for pending in std::mem::take(&mut self.pending) {
            if let Some(seqs) = pending.seqs {
                for seq in seqs {
                    let bytes = self.disk.written().nth(seq as usize - 1).expect("answered records were written");
                    self.acknowledged.push((seq, bytes.clone()));
                }
            }
            match pending.waiter {
                Waiter::Reserve(hold) if pending.answered_ok => {
                    self.window_of.insert(hold.id, hold.key.clone());
                    self.holds.push(hold);
                }
                Waiter::Webhook(delivery) => self.stripe.acknowledged.push(delivery.event_id),
                Waiter::Reserve(_) | Waiter::Nobody => {}
            }
        }
    }

    /// The process dies at `point` and starts again from the disk.
    pub fn crash(&mut self, point: CrashPoint) -> Result<(), String> {
        self.stats.crashes += 1;
        self.log(|| format!("CRASH at {point:?}"));
        if point != CrashPoint::AfterFlushBeforeReply {
            self.disk.crash(&mut self.rng);
        }
        // Answers never sent: Stripe retries its events; customers saw an error.
        for pending in std::mem::take(&mut self.pending) {
            if let Waiter::Webhook(delivery) = pending.waiter {
                self.stripe.retry(&mut self.rng, self.now, delivery);
            }
        }
        self.now += Duration::milliseconds(self.rng.below(5_000) as i64);
        self.server =
            Server::boot(&mut self.disk, &self.venues, self.now).map_err(|e| format!("boot after {point:?}: {e}"))?;
        super::check::after_recovery(self).map_err(|e| format!("after crash at {point:?}: {e}"))
    }

    /// A line of the trace (`--trace`), stamped with the simulated time.
    pub fn log(&self, line: impl FnOnce() -> String) {
        if self.trace {
            eprintln!("[{} #{}] {}", self.now.format("%H:%M:%S%.3f"), self.stats.steps, line());
        }
    }

    pub fn snapshot(&mut self) -> Result<(), String> {
        let (seq, bytes) = self.server.snapshot(&mut self.disk, self.now)?;
        if self.fault(10) {
            return self.crash(CrashPoint::MidSnapshot);
        }
        self.disk.write_snapshot(seq, bytes);
        self.stats.snapshots += 1;
        Ok(())
    }
}
