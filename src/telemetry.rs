//! Prometheus metrics: names, labels and where they come from, in one place.
//!
//! Labels are per venue (and per window start for reserve attempts, to spot spikes of
//! simultaneous checkouts), never per reservation, so the number of series stays
//! bounded. The recorder is process-global (the `metrics` facade is); tests in one
//! process therefore share it and assert on their own venues' series.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{
    Counter, Gauge, Histogram, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::{RefundReason, Rejection, WindowEvent, WindowKey};

mod waitlist;
pub use waitlist::{WAITLIST_JOINED, WAITLIST_OFFERS, WAITLIST_SLOTS, WaitlistMetrics};

pub const HOLDS_PLACED: &str = "qskip_holds_placed_total";
pub const HOLDS_REFUSED: &str = "qskip_holds_refused_total";
pub const HOLDS_EXPIRED: &str = "qskip_holds_expired_total";
pub const HOLDS_CANCELLED: &str = "qskip_holds_cancelled_total";
pub const CONFIRMATIONS: &str = "qskip_confirmations_total";
pub const REFUNDS_OWED: &str = "qskip_refunds_owed_total";
pub const REFUNDS_ISSUED: &str = "qskip_refunds_issued_total";
pub const HOLD_TO_PAYMENT: &str = "qskip_hold_to_payment_seconds";
pub const RESERVE_ATTEMPTS: &str = "qskip_reserve_attempts_total";
pub const WEBHOOK_LAG: &str = "qskip_webhook_lag_seconds";
pub const JOURNAL_BATCH_RECORDS: &str = "qskip_journal_batch_records";
pub const JOURNAL_FLUSH: &str = "qskip_journal_flush_seconds";
pub const MAILBOX_TIMEOUTS: &str = "qskip_actor_mailbox_timeouts_total";
pub const ACTORS_LIVE: &str = "qskip_window_actors_live";
pub const WINDOWS_OVERCOMMITTED: &str = "qskip_windows_overcommitted";
pub const HELD_SLOTS: &str = "qskip_held_slots";
pub const HOLDS_RELEASED: &str = "qskip_holds_released_total";
pub const CAPACITY_CHANGES: &str = "qskip_capacity_changes_total";
pub const WEBHOOK_EVENTS: &str = "qskip_webhook_events_total";
pub const REFUND_ATTEMPTS_FAILED: &str = "qskip_refund_attempts_failed_total";
pub const REFUNDS_PENDING: &str = "qskip_refunds_pending";
pub const REFUNDS_FAILED: &str = "qskip_refunds_failed";
pub const REFUND_OLDEST_PENDING: &str = "qskip_refund_oldest_pending_seconds";
pub const CONNECTIONS_REFUSED: &str = "qskip_connections_refused_total";
pub const CONNECTIONS_STALLED: &str = "qskip_connections_stalled_total";

const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0];
const RECORDS_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(JOURNAL_BATCH_RECORDS.into()), RECORDS_BUCKETS))
            .expect("the bucket lists are non-empty constants")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will stay empty");
        }
        describe();
        handle
    })
}

fn describe() {
    describe_counter!(HOLDS_PLACED, "Holds granted");
    waitlist::describe();
    describe_counter!(CONNECTIONS_REFUSED, "Connections refused: too many open from one address");
    describe_counter!(CONNECTIONS_STALLED, "Connections closed because the client accepted no data for too long");
    describe_counter!(HOLDS_REFUSED, "Holds refused, by reason (sold_out = the old failed_inventory_check)");
    describe_counter!(HOLDS_EXPIRED, "Holds that expired and freed their slots");
    describe_counter!(HOLDS_CANCELLED, "Holds released before payment");
    describe_counter!(CONFIRMATIONS, "Reservations confirmed by a payment, on time or late");
    describe_counter!(REFUNDS_OWED, "Payments that must be refunded, by reason");
    describe_counter!(REFUNDS_ISSUED, "Refunds accepted by the payment provider");
    describe_histogram!(HOLD_TO_PAYMENT, "Time from hold to confirmed payment");
    describe_counter!(RESERVE_ATTEMPTS, "Reservation attempts per venue");
    describe_gauge!(
        HELD_SLOTS,
        "Slots held and not paid yet in a venue's live windows: customers in checkout at once (spikes show here)"
    );
    describe_histogram!(WEBHOOK_LAG, "Stripe event creation to processing");
    describe_histogram!(JOURNAL_BATCH_RECORDS, "Records per journal flush (group commit)");
    describe_histogram!(JOURNAL_FLUSH, "Duration of one journal flush (sled flush + fdatasync)");
    describe_counter!(MAILBOX_TIMEOUTS, "Window actor answers that timed out (503 busy)");
    describe_gauge!(ACTORS_LIVE, "Window actors running");
    describe_gauge!(WINDOWS_OVERCOMMITTED, "Live windows with more committed than capacity (after a capacity cut)");
    describe_counter!(HOLDS_RELEASED, "Holds released by hand by an operator (admin API)");
    describe_counter!(CAPACITY_CHANGES, "Window capacity changes made by an operator (admin API)");
    describe_counter!(
        WEBHOOK_EVENTS,
        "Stripe webhook events processed, by outcome (unknown_reservation, rejection codes = payments rejected)"
    );
    describe_counter!(
        REFUND_ATTEMPTS_FAILED,
        "Refund attempts that failed at Stripe or in recording (retried with backoff)"
    );
    describe_gauge!(REFUNDS_PENDING, "Refunds owed and not issued yet, at the last refund worker pass");
    describe_gauge!(REFUNDS_FAILED, "Refunds owed that Stripe kept refusing: waiting for an operator to retry");
    describe_gauge!(REFUND_OLDEST_PENDING, "Age of the oldest refund still owed (0 when none): alert when it grows");
}

/// One window's counters, registered once when its actor starts: on the hot path a
/// count is then one atomic add, not a registry lookup with freshly built labels.
pub struct WindowMetrics {
    placed: Counter,
    expired: Counter,
    cancelled: Counter,
    on_time: Counter,
    late: Counter,
    refused_sold_out: Counter,
    refused_full: Counter,
    refunds_owed: [Counter; 4],
    refunds_issued: Counter,
    reserve_attempts: Counter,
    hold_to_payment: Histogram,
    released: Counter,
    capacity_changes: Counter,
    overcommitted: Gauge,
    /// Whether this window currently adds 1 to the overcommitted gauge.
    counted_overcommitted: bool,
    held_slots: Gauge,
    /// What this window currently adds to the venue's held-slots gauge.
    counted_held: u32,
    /// The window's queue (`telemetry::waitlist`).
    pub waitlist: WaitlistMetrics,
}

impl WindowMetrics {
    pub fn new(window: &WindowKey) -> Self {
        let venue = window.venue_id.to_string();
        let by_venue = |name: &'static str| counter!(name, "venue" => venue.clone());
        let refund =
            |reason: RefundReason| counter!(REFUNDS_OWED, "venue" => venue.clone(), "reason" => reason.as_str());
        Self {
            placed: by_venue(HOLDS_PLACED),
            expired: by_venue(HOLDS_EXPIRED),
            cancelled: by_venue(HOLDS_CANCELLED),
            on_time: counter!(CONFIRMATIONS, "venue" => venue.clone(), "timing" => "on_time"),
            late: counter!(CONFIRMATIONS, "venue" => venue.clone(), "timing" => "late"),
            refused_sold_out: counter!(HOLDS_REFUSED, "venue" => venue.clone(), "reason" => "sold_out"),
            refused_full: counter!(HOLDS_REFUSED, "venue" => venue.clone(), "reason" => "window_full"),
            refunds_owed: [
                refund(RefundReason::SoldOut),
                refund(RefundReason::WindowEnded),
                refund(RefundReason::AlreadyConfirmed),
                refund(RefundReason::AmountMismatch),
            ],
            refunds_issued: by_venue(REFUNDS_ISSUED),
            // Per venue only: a label per window would add a series for every window
            // ever touched (unbounded). Spikes of simultaneous checkouts show in HELD_SLOTS.
            reserve_attempts: by_venue(RESERVE_ATTEMPTS),
            held_slots: gauge!(HELD_SLOTS, "venue" => venue.clone()),
            counted_held: 0,
            hold_to_payment: histogram!(HOLD_TO_PAYMENT, "venue" => venue.clone()),
            released: by_venue(HOLDS_RELEASED),
            capacity_changes: by_venue(CAPACITY_CHANGES),
            overcommitted: gauge!(WINDOWS_OVERCOMMITTED, "venue" => venue.clone()),
            counted_overcommitted: false,
            waitlist: WaitlistMetrics::new(&venue),
        }
    }

    /// Counts what a decision did.
    pub fn record_events(&self, events: &[WindowEvent]) {
        for event in events {
            match event {
                WindowEvent::HoldPlaced { .. } => self.placed.increment(1),
                WindowEvent::HoldExpired { .. } => self.expired.increment(1),
                WindowEvent::HoldCancelled { .. } => self.cancelled.increment(1),
                WindowEvent::HoldConfirmed { late: false, .. } => self.on_time.increment(1),
                WindowEvent::HoldConfirmed { late: true, .. } => self.late.increment(1),
                WindowEvent::RefundOwed { reason, .. } => self.refunds_owed[*reason as usize].increment(1),
                WindowEvent::RefundIssued { .. } | WindowEvent::RefundSettled { .. } => {
                    self.refunds_issued.increment(1)
                }
                WindowEvent::HoldReleased { .. } => self.released.increment(1),
                WindowEvent::CapacityChanged { .. } => self.capacity_changes.increment(1),
                _ => {}
            }
        }
    }

    /// Keeps the venue's overcommitted gauge in step with this window.
    pub fn set_overcommitted(&mut self, overcommitted: bool) {
        match (self.counted_overcommitted, overcommitted) {
            (false, true) => self.overcommitted.increment(1.0),
            (true, false) => self.overcommitted.decrement(1.0),
            _ => return,
        }
        self.counted_overcommitted = overcommitted;
    }

    /// Keeps the venue's held-slots gauge in step with this window's live holds.
    pub fn set_held(&mut self, held: u32) {
        let delta = f64::from(held) - f64::from(self.counted_held);
        if delta != 0.0 {
            self.held_slots.increment(delta);
            self.counted_held = held;
        }
    }

    pub fn record_hold_to_payment(&self, placed_at: DateTime<Utc>, confirmed_at: DateTime<Utc>) {
        self.hold_to_payment.record((confirmed_at - placed_at).num_milliseconds().max(0) as f64 / 1000.0);
    }

    /// Counts a reservation attempt, and its refusal if it was refused for room.
    pub fn record_reserve_attempt(&self, refusal: Option<&Rejection>) {
        self.reserve_attempts.increment(1);
        match refusal {
            Some(Rejection::SoldOut { .. }) => self.refused_sold_out.increment(1),
            Some(Rejection::WindowFull) => self.refused_full.increment(1),
            _ => {}
        }
    }
}

impl Drop for WindowMetrics {
    /// A stopped actor's window no longer counts as overcommitted or holding slots.
    fn drop(&mut self) {
        self.set_overcommitted(false);
        self.set_held(0);
    }
}

pub fn record_webhook_lag(created_unix: i64, now: DateTime<Utc>) {
    histogram!(WEBHOOK_LAG).record((now.timestamp() - created_unix).max(0) as f64);
}

pub fn record_journal_flush(records: usize, took: Duration) {
    histogram!(JOURNAL_BATCH_RECORDS).record(records as f64);
    histogram!(JOURNAL_FLUSH).record(took.as_secs_f64());
}

/// `outcome` comes from a fixed set (statuses, rejection codes, `ignored`, ...), so the
/// label stays bounded.
pub fn record_webhook_event(outcome: &'static str) {
    counter!(WEBHOOK_EVENTS, "outcome" => outcome).increment(1);
}

pub fn record_refund_attempt_failed(venue: &str) {
    counter!(REFUND_ATTEMPTS_FAILED, "venue" => venue.to_owned()).increment(1);
}

/// Refunds still owed per venue (every venue named, so a venue that drained reads 0)
/// and the age of the oldest.
/// Per venue: refunds still owed (failed ones included), and those of them the worker
/// gave up on (waiting for an operator).
pub fn set_refunds_pending<'a>(pending: impl IntoIterator<Item = (&'a str, usize, usize)>, oldest_secs: f64) {
    for (venue, owed, failed) in pending {
        gauge!(REFUNDS_PENDING, "venue" => venue.to_owned()).set(owed as f64);
        gauge!(REFUNDS_FAILED, "venue" => venue.to_owned()).set(failed as f64);
    }
    gauge!(REFUND_OLDEST_PENDING).set(oldest_secs);
}

pub fn record_mailbox_timeout() {
    counter!(MAILBOX_TIMEOUTS).increment(1);
}

pub fn set_actors_live(count: usize) {
    gauge!(ACTORS_LIVE).set(count as f64);
}

pub fn record_connection_refused() {
    counter!(CONNECTIONS_REFUSED).increment(1);
}

pub fn record_connection_stalled() {
    counter!(CONNECTIONS_STALLED).increment(1);
}
