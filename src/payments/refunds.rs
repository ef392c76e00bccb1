//! The refund worker: every refund owed in the log is paid back at Stripe and answered
//! with `RefundSettled`, however many restarts happen in between.
//!
//! The debts come from the log's `O` index (only refunds still owed), so a restart
//! resumes exactly where it stopped. Before refunding, the worker lists the refunds
//! Stripe already has for the payment intent ([`refund_plan`](super::refund_plan)):
//! Stripe forgets idempotency keys after 24 h, and an operator may have refunded part of
//! it by hand. Failures are retried with capped exponential backoff per debt, up to
//! `REFUND_ATTEMPTS_MAX`; an error retrying cannot fix (or that bound) records
//! `RefundFailed` for an operator, who can hand the debt back (admin API). A debt is
//! never dropped.

use std::time::Duration;

use super::backoff::Backoff;
use super::refund_plan::{self, RefundPlan};
use crate::domain::ReservationId;
use crate::limits::{REFUND_ATTEMPTS_MAX, REFUND_SCAN_INTERVAL_MS};
use crate::service::Services;
use crate::store::OwedRefund;
use crate::stripe::{StripeClient, StripeError};

/// Stripe's error code for a refund of a payment with nothing left to refund.
const ALREADY_REFUNDED: &str = "charge_already_refunded";

pub struct RefundWorker {
    services: Services,
    stripe: StripeClient,
    backoff: Backoff<(ReservationId, String)>,
}

/// Whether a failed attempt ends the automatic retries: an error that retrying cannot
/// fix (a 4xx, a payment intent that is not Stripe's), or too many attempts.
pub fn gives_up(attempts: u32, error: &StripeError) -> bool {
    !error.is_transient() || attempts >= REFUND_ATTEMPTS_MAX
}

impl RefundWorker {
    pub fn new(services: Services, stripe: StripeClient) -> Self {
        Self { services, stripe, backoff: Backoff::default() }
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

    /// Tries every owed refund that is neither failed nor waiting out a backoff; returns
    /// how many were recorded as settled.
    pub async fn pass(&mut self) -> usize {
        // The `O` index also shows debts the journal has written but not yet flushed. A
        // refund made for one that a crash then loses cannot be taken back, and the
        // redelivered payment may confirm instead (found by the simulation, `qskip-sim
        // --seed 7 --faults 4`). So what was read is made durable before acting on it.
        let log = self.services.log();
        let owed = match log.owed_refunds().and_then(|owed| log.make_durable(true).map(|()| owed)) {
            Ok(owed) => owed,
            Err(error) => {
                tracing::error!(%error, "cannot read owed refunds");
                return 0;
            }
        };
        self.report_pending(&owed);
        let mut settled = 0;
        for debt in owed.iter().filter(|d| d.failure.is_none()) {
            let key = (debt.reservation_id, debt.payment_intent.clone());
            if self.backoff.is_waiting(&key) {
                continue;
            }
            match self.settle(debt).await {
                Ok(()) => {
                    self.backoff.succeeded(&key);
                    settled += 1;
                }
                Err(error) => self.failed(debt, key, error).await,
            }
        }
        settled
    }

    async fn failed(&mut self, debt: &OwedRefund, key: (ReservationId, String), error: SettleError) {
        crate::telemetry::record_refund_attempt_failed(debt.window.venue_id.as_str());
        let (attempts, delay) = self.backoff.failed(key.clone());
        let (id, intent) = (debt.reservation_id, &debt.payment_intent);
        match &error {
            SettleError::Stripe(stripe) if gives_up(attempts, stripe) => {
                tracing::error!(reservation = %id, payment_intent = %intent, attempts, %error,
                    "refund refused by Stripe; waiting for an operator");
                let payments = &self.services.payments;
                let recorded = payments.fail_refund(id, intent.clone(), attempts, error.to_string()).await;
                match recorded {
                    Ok(_) => self.backoff.succeeded(&key),
                    Err(record) => tracing::warn!(reservation = %id, %record, "refund failure not recorded yet"),
                }
            }
            _ => tracing::warn!(reservation = %id, payment_intent = %intent, attempts, ?delay, %error,
                "refund not settled yet; will retry"),
        }
    }

    /// Publishes how many refunds each venue still owes, how many wait for an operator,
    /// and how old the oldest debt is.
    fn report_pending(&self, owed: &[OwedRefund]) {
        let venues = self.services.venues.all();
        let per_venue = venues.iter().map(|v| {
            let of_venue = || owed.iter().filter(|d| d.window.venue_id == v.id);
            (v.id.as_str(), of_venue().count(), of_venue().filter(|d| d.failure.is_some()).count())
        });
        let oldest = owed.iter().map(|d| d.owed_at).min();
        let age_secs = oldest.map_or(0.0, |at| (self.services.now() - at).num_milliseconds().max(0) as f64 / 1000.0);
        crate::telemetry::set_refunds_pending(per_venue, age_secs);
    }

    /// Pays the debt back at Stripe (or finds it paid) and records it with the window.
    async fn settle(&self, debt: &OwedRefund) -> Result<(), SettleError> {
        let (refund_ids, refunded_minor) = self.refund_at_stripe(debt).await?;
        let payments = &self.services.payments;
        let recorded =
            payments.record_refund(debt.reservation_id, debt.payment_intent.clone(), refund_ids, refunded_minor);
        recorded.await.map(|_| ()).map_err(|e| SettleError::Record(e.to_string()))
    }

    /// The refunds that settle the debt and what they add up to (`None` if unknown).
    async fn refund_at_stripe(&self, debt: &OwedRefund) -> Result<(Vec<String>, Option<u64>), StripeError> {
        let intent = &debt.payment_intent;
        let listed = self.stripe.list_refunds(intent).await?;
        let (amount_minor, mut counted, counted_minor) = match refund_plan::plan(debt.amount_minor, intent, &listed) {
            RefundPlan::Settled { refund_ids, refunded_minor } => {
                tracing::info!(payment_intent = %intent, ?refund_ids, "refunds at Stripe cover the debt");
                return Ok((refund_ids, Some(refunded_minor)));
            }
            RefundPlan::Refund { amount_minor, counted, counted_minor } => (amount_minor, counted, counted_minor),
        };
        let reservation = debt.reservation_id.to_string();
        let key = refund_plan::idempotency_key(&reservation, intent, counted_minor);
        let refund = match self.stripe.create_refund(intent, amount_minor, &reservation, &key).await {
            Err(StripeError::Api { code: Some(code), .. }) if code == ALREADY_REFUNDED && !counted.is_empty() => {
                tracing::info!(payment_intent = %intent, refunds = ?counted, "nothing left to refund");
                return Ok((counted, None));
            }
            other => other?,
        };
        tracing::info!(refund = %refund.id, payment_intent = %intent, ?amount_minor, "refund issued");
        let refunded = refund.amount.and_then(|a| u64::try_from(a).ok()).map(|a| a + counted_minor);
        counted.push(refund.id);
        Ok((counted, amount_minor.map(|a| a + counted_minor).or(refunded)))
    }
}

#[derive(Debug, thiserror::Error)]
enum SettleError {
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error("refund issued but not recorded yet: {0}")]
    Record(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> StripeError {
        StripeError::Api { status, error_type: None, code: None, param: None, message: None, request_id: None }
    }

    #[test]
    fn transient_errors_are_retried_until_the_bound() {
        assert!(!gives_up(1, &api(503)));
        assert!(!gives_up(REFUND_ATTEMPTS_MAX - 1, &api(429)));
        assert!(gives_up(REFUND_ATTEMPTS_MAX, &api(503)));
    }

    #[test]
    fn errors_retrying_cannot_fix_give_up_at_once() {
        assert!(gives_up(1, &api(400)));
        assert!(gives_up(1, &StripeError::InvalidId { what: "payment intent" }));
    }
}
