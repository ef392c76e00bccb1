//! Prometheus metrics: names, labels and where they come from, in one place.
//!
//! Labels are per venue, never per window or reservation, so the number of series
//! stays bounded however many windows are live (spikes of simultaneous checkouts show
//! in the venue's held-slots gauge). The recorder is process-global (the `metrics` facade is); tests in one
//! process therefore share it and assert on their own venues' series.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{
    Counter, Gauge, Histogram, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::{RefundReason, Rejection, VenueId, WindowEvent, WindowKey};

mod waitlist;
use waitlist::WaitlistSeries;
pub use waitlist::{WAITLIST_JOINED, WAITLIST_OFFERS, WAITLIST_SLOTS};

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

/// One venue's series that window actors count into, registered once per venue (see
/// [`WindowMetrics::new`]): on the hot path a count is then one atomic add, not a
/// registry lookup with freshly built labels.
struct VenueMetrics {
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
    held_slots: Gauge,
    /// The venue's queues (`telemetry::waitlist`).
    waitlist: WaitlistSeries,
}

impl VenueMetrics {
    fn register(venue: &str) -> Self {
        // Handles taken before the recorder is installed would count nowhere, for good:
        // they are kept for the life of the process.
        prometheus();
        let by_venue = |name: &'static str| counter!(name, "venue" => venue.to_owned());
        let refund =
            |reason: RefundReason| counter!(REFUNDS_OWED, "venue" => venue.to_owned(), "reason" => reason.as_str());
        Self {
            placed: by_venue(HOLDS_PLACED),
            expired: by_venue(HOLDS_EXPIRED),
            cancelled: by_venue(HOLDS_CANCELLED),
            on_time: counter!(CONFIRMATIONS, "venue" => venue.to_owned(), "timing" => "on_time"),
            late: counter!(CONFIRMATIONS, "venue" => venue.to_owned(), "timing" => "late"),
            refused_sold_out: counter!(HOLDS_REFUSED, "venue" => venue.to_owned(), "reason" => "sold_out"),
            refused_full: counter!(HOLDS_REFUSED, "venue" => venue.to_owned(), "reason" => "window_full"),
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
            held_slots: gauge!(HELD_SLOTS, "venue" => venue.to_owned()),
            hold_to_payment: histogram!(HOLD_TO_PAYMENT, "venue" => venue.to_owned()),
            released: by_venue(HOLDS_RELEASED),
            capacity_changes: by_venue(CAPACITY_CHANGES),
            overcommitted: gauge!(WINDOWS_OVERCOMMITTED, "venue" => venue.to_owned()),
            waitlist: WaitlistSeries::register(venue),
        }
    }
}

/// The series of every venue a window actor has counted into. Bounded by the venues
/// ever configured in the process (their series stay in the recorder anyway).
static VENUES: OnceLock<Mutex<HashMap<VenueId, Arc<VenueMetrics>>>> = OnceLock::new();

/// One window's view of its venue's series, and what the window adds to its gauges.
/// Shared per venue, not per window: a live window costs 16 bytes here, however many
/// windows are live (100,000 actors each holding 18 handles took ~0.9 KiB apiece).
pub struct WindowMetrics {
    venue: Arc<VenueMetrics>,
    /// What this window currently adds to the venue's held-slots gauge.
    counted_held: u32,
    /// Whether this window currently adds 1 to the overcommitted gauge.
    counted_overcommitted: bool,
    /// What this window currently adds to the venue's queued-slots gauge.
    counted_queued: u32,
}

impl WindowMetrics {
    pub fn new(window: &WindowKey) -> Self {
        let mut venues = VENUES.get_or_init(Default::default).lock().expect("no panics under the venue metrics lock");
        let venue = match venues.get(&window.venue_id) {
            Some(venue) => venue.clone(),
            None => {
                let venue = Arc::new(VenueMetrics::register(window.venue_id.as_str()));
                venues.insert(window.venue_id.clone(), venue.clone());
                venue
            }
        };
        Self { venue, counted_held: 0, counted_overcommitted: false, counted_queued: 0 }
    }

    /// Counts what a decision did.
    pub fn record_events(&self, events: &[WindowEvent]) {
        for event in events {
            match event {
                WindowEvent::HoldPlaced { .. } => self.venue.placed.increment(1),
                WindowEvent::HoldExpired { .. } => self.venue.expired.increment(1),
                WindowEvent::HoldCancelled { .. } => self.venue.cancelled.increment(1),
                WindowEvent::HoldConfirmed { late: false, .. } => self.venue.on_time.increment(1),
                WindowEvent::HoldConfirmed { late: true, .. } => self.venue.late.increment(1),
                WindowEvent::RefundOwed { reason, .. } => self.venue.refunds_owed[*reason as usize].increment(1),
                WindowEvent::RefundIssued { .. } | WindowEvent::RefundSettled { .. } => {
                    self.venue.refunds_issued.increment(1)
                }
                WindowEvent::HoldReleased { .. } => self.venue.released.increment(1),
                WindowEvent::CapacityChanged { .. } => self.venue.capacity_changes.increment(1),
                _ => {}
            }
        }
    }

    /// Keeps the venue's overcommitted gauge in step with this window.
    pub fn set_overcommitted(&mut self, overcommitted: bool) {
        match (self.counted_overcommitted, overcommitted) {
            (false, true) => self.venue.overcommitted.increment(1.0),
            (true, false) => self.venue.overcommitted.decrement(1.0),
            _ => return,
        }
        self.counted_overcommitted = overcommitted;
    }

    /// Counts what a decision did to the window's queue; `window` has the events
    /// applied (it tells which confirmed or expired holds were offers).
    pub fn record_waitlist(&mut self, events: &[WindowEvent], window: &crate::domain::Window) {
        self.venue.waitlist.record(events, window);
        self.set_queued(window.waitlist().slots());
    }

    /// Keeps the venue's queued-slots gauge in step with this window's queue.
    fn set_queued(&mut self, queued: u32) {
        let delta = f64::from(queued) - f64::from(self.counted_queued);
        if delta != 0.0 {
            self.venue.waitlist.slots.increment(delta);
            self.counted_queued = queued;
        }
    }

    /// Keeps the venue's held-slots gauge in step with this window's live holds.
    pub fn set_held(&mut self, held: u32) {
        let delta = f64::from(held) - f64::from(self.counted_held);
        if delta != 0.0 {
            self.venue.held_slots.increment(delta);
            self.counted_held = held;
        }
    }

    pub fn record_hold_to_payment(&self, placed_at: DateTime<Utc>, confirmed_at: DateTime<Utc>) {
        self.venue.hold_to_payment.record((confirmed_at - placed_at).num_milliseconds().max(0) as f64 / 1000.0);
    }

    /// Counts a reservation attempt, and its refusal if it was refused for room.
    pub fn record_reserve_attempt(&self, refusal: Option<&Rejection>) {
        self.venue.reserve_attempts.increment(1);
        match refusal {
            Some(Rejection::SoldOut { .. }) => self.venue.refused_sold_out.increment(1),
            Some(Rejection::WindowFull) => self.venue.refused_full.increment(1),
            _ => {}
        }
    }
}

impl Drop for WindowMetrics {
    /// A stopped actor's window no longer counts as overcommitted or holding slots.
    fn drop(&mut self) {
        self.set_overcommitted(false);
        self.set_held(0);
        self.set_queued(0);
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
