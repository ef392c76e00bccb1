//! Prometheus metrics: names, labels and where they come from, in one place.
//!
//! Labels are per venue (and per window start for reserve attempts, to spot spikes of
//! simultaneous checkouts), never per reservation, so the number of series stays
//! bounded. The recorder is process-global (the `metrics` facade is); tests in one
//! process therefore share it and assert on their own venues' series.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::{Rejection, WindowEvent, WindowKey};

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
    describe_counter!(HOLDS_REFUSED, "Holds refused, by reason (sold_out = the old failed_inventory_check)");
    describe_counter!(HOLDS_EXPIRED, "Holds that expired and freed their slots");
    describe_counter!(HOLDS_CANCELLED, "Holds released before payment");
    describe_counter!(CONFIRMATIONS, "Reservations confirmed by a payment, on time or late");
    describe_counter!(REFUNDS_OWED, "Payments that must be refunded, by reason");
    describe_counter!(REFUNDS_ISSUED, "Refunds accepted by the payment provider");
    describe_histogram!(HOLD_TO_PAYMENT, "Time from hold to confirmed payment");
    describe_counter!(RESERVE_ATTEMPTS, "Reservation attempts per venue and window start");
    describe_histogram!(WEBHOOK_LAG, "Stripe event creation to processing");
    describe_histogram!(JOURNAL_BATCH_RECORDS, "Records per journal flush (group commit)");
    describe_histogram!(JOURNAL_FLUSH, "Duration of one journal flush (sled flush + fdatasync)");
    describe_counter!(MAILBOX_TIMEOUTS, "Window actor answers that timed out (503 busy)");
    describe_gauge!(ACTORS_LIVE, "Window actors running");
}

/// Counts what a window's decision did.
pub fn record_events(window: &WindowKey, events: &[WindowEvent]) {
    let venue = window.venue_id.to_string();
    for event in events {
        match event {
            WindowEvent::HoldPlaced { .. } => counter!(HOLDS_PLACED, "venue" => venue.clone()).increment(1),
            WindowEvent::HoldExpired { .. } => counter!(HOLDS_EXPIRED, "venue" => venue.clone()).increment(1),
            WindowEvent::HoldCancelled { .. } => counter!(HOLDS_CANCELLED, "venue" => venue.clone()).increment(1),
            WindowEvent::HoldConfirmed { late, .. } => {
                let timing = if *late { "late" } else { "on_time" };
                counter!(CONFIRMATIONS, "venue" => venue.clone(), "timing" => timing).increment(1);
            }
            WindowEvent::RefundOwed { reason, .. } => {
                counter!(REFUNDS_OWED, "venue" => venue.clone(), "reason" => reason.as_str()).increment(1);
            }
            WindowEvent::RefundIssued { .. } => counter!(REFUNDS_ISSUED, "venue" => venue.clone()).increment(1),
            _ => {}
        }
    }
}

/// Time from hold to payment, for a confirmation.
pub fn record_hold_to_payment(window: &WindowKey, placed_at: DateTime<Utc>, confirmed_at: DateTime<Utc>) {
    let seconds = (confirmed_at - placed_at).num_milliseconds().max(0) as f64 / 1000.0;
    histogram!(HOLD_TO_PAYMENT, "venue" => window.venue_id.to_string()).record(seconds);
}

/// Counts a refused hold.
pub fn record_refusal(window: &WindowKey, rejection: &Rejection) {
    if matches!(rejection, Rejection::SoldOut { .. } | Rejection::WindowFull) {
        counter!(HOLDS_REFUSED, "venue" => window.venue_id.to_string(), "reason" => rejection.code()).increment(1);
    }
}

pub fn record_reserve_attempt(window: &WindowKey) {
    let start = window.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    counter!(RESERVE_ATTEMPTS, "venue" => window.venue_id.to_string(), "window_start" => start).increment(1);
}

pub fn record_webhook_lag(created_unix: i64, now: DateTime<Utc>) {
    histogram!(WEBHOOK_LAG).record((now.timestamp() - created_unix).max(0) as f64);
}

pub fn record_journal_flush(records: usize, took: Duration) {
    histogram!(JOURNAL_BATCH_RECORDS).record(records as f64);
    histogram!(JOURNAL_FLUSH).record(took.as_secs_f64());
}

pub fn record_mailbox_timeout() {
    counter!(MAILBOX_TIMEOUTS).increment(1);
}

pub fn set_actors_live(count: usize) {
    gauge!(ACTORS_LIVE).set(count as f64);
}
