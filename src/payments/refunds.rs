//! The refund worker: every `RefundOwed` in the log is issued at Stripe and answered
//! with `RefundIssued`, however many restarts happen in between.
//!
//! The debts come from the log's `O` index (only refunds still owed), so a restart
//! resumes exactly where it stopped. The idempotency key is stable per debt
//! (`refund:<reservation>:<payment intent>`), but Stripe forgets keys after 24 h, so
//! before creating a refund the worker looks for one made earlier for that payment
//! intent and records it instead of refunding twice. Failures are retried with capped
//! exponential backoff per debt; a debt is never dropped.

use std::sync::Arc;
use std::time::Duration;

use super::backoff::Backoff;
use crate::actors::Booking;
use crate::domain::ReservationId;
use crate::limits::REFUND_SCAN_INTERVAL_MS;
use crate::store::OwedRefund;
use crate::stripe::{StripeClient, StripeError};

/// Refund statuses after which Stripe will not pay the money back.
const DEAD_REFUND_STATUSES: [&str; 2] = ["failed", "canceled"];

pub struct RefundWorker {
    booking: Arc<Booking>,
    stripe: StripeClient,
    backoff: Backoff<(ReservationId, String)>,
}

impl RefundWorker {
    pub fn new(booking: Arc<Booking>, stripe: StripeClient) -> Self {
        Self { booking, stripe, backoff: Backoff::default() }
    }

    /// Runs forever on the current actix system, one pass per scan interval.
    pub fn spawn(mut self) {
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(Duration::from_millis(REFUND_SCAN_INTERVAL_MS));
            loop {
                tick.tick().await;
                self.pass().await;
            }
        });
    }

    /// Tries every owed refund that is not waiting out a backoff; returns how many
    /// were recorded as issued.
    pub async fn pass(&mut self) -> usize {
        // The `O` index also shows debts the journal has written but not yet flushed. A
        // refund made for one that a crash then loses cannot be taken back, and the
        // redelivered payment may confirm instead (found by the simulation, `qskip-sim
        // --seed 7 --faults 4`). So what was read is made durable before acting on it.
        let log = self.booking.log();
        let owed = match log.owed_refunds().and_then(|owed| log.make_durable(true).map(|()| owed)) {
            Ok(owed) => owed,
            Err(error) => {
                tracing::error!(%error, "cannot read owed refunds");
                return 0;
            }
        };
        self.report_pending(&owed);
        let mut issued = 0;
        for debt in owed {
            let key = (debt.reservation_id, debt.payment_intent.clone());
            if self.backoff.is_waiting(&key) {
                continue;
            }
            match self.settle(&debt).await {
                Ok(()) => {
                    self.backoff.succeeded(&key);
                    issued += 1;
                }
                Err(error) => {
                    crate::telemetry::record_refund_attempt_failed(debt.window.venue_id.as_str());
                    let (attempts, delay) = self.backoff.failed(key);
                    tracing::warn!(reservation = %debt.reservation_id, payment_intent = %debt.payment_intent,
                        attempts, ?delay, %error, "refund not issued yet; will retry");
                }
            }
        }
        issued
    }

    /// Publishes how many refunds each venue still owes and how old the oldest is: a
    /// debt is never dropped, so a refund Stripe keeps refusing shows here.
    fn report_pending(&self, owed: &[OwedRefund]) {
        let venues = self.booking.venues().all();
        let per_venue =
            venues.iter().map(|v| (v.id.as_str(), owed.iter().filter(|d| d.window.venue_id == v.id).count()));
        let oldest = owed.iter().map(|d| d.owed_at).min();
        let age_secs = oldest.map_or(0.0, |at| (self.booking.now() - at).num_milliseconds().max(0) as f64 / 1000.0);
        crate::telemetry::set_refunds_pending(per_venue, age_secs);
    }

    /// Issues (or finds) the refund for one debt and records it with the window actor.
    async fn settle(&self, debt: &OwedRefund) -> Result<(), SettleError> {
        let refund_id = self.refund_at_stripe(debt).await?;
        let recorded = self.booking.record_refund(debt.reservation_id, debt.payment_intent.clone(), refund_id).await;
        recorded.map(|_| ()).map_err(|e| SettleError::Record(e.to_string()))
    }

    async fn refund_at_stripe(&self, debt: &OwedRefund) -> Result<String, StripeError> {
        let earlier = self.stripe.list_refunds(&debt.payment_intent).await?;
        let alive = |status: &Option<String>| !status.as_deref().is_some_and(|s| DEAD_REFUND_STATUSES.contains(&s));
        if let Some(existing) = earlier.into_iter().find(|r| alive(&r.status)) {
            tracing::info!(refund = %existing.id, payment_intent = %debt.payment_intent, "refund already at Stripe");
            return Ok(existing.id);
        }
        let reservation = debt.reservation_id.to_string();
        let key = format!("refund:{reservation}:{}", debt.payment_intent);
        let refund = self.stripe.create_refund(&debt.payment_intent, &reservation, &key).await?;
        tracing::info!(refund = %refund.id, payment_intent = %debt.payment_intent, "refund issued");
        Ok(refund.id)
    }
}

#[derive(Debug, thiserror::Error)]
enum SettleError {
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error("refund issued but not recorded yet: {0}")]
    Record(String),
}
