//! The session-expiry worker: closes at Stripe every checkout page whose hold has ended
//! (expired or cancelled), so a customer cannot pay for a dead hold, and records
//! `CheckoutClosed`. Its outbox is the log's `S` index of pages still open, so it
//! resumes after a restart.
//!
//! A confirmed reservation's page is complete at Stripe already: it is closed in the log
//! without a call. If Stripe refuses the expiry because the session is no longer open
//! (the customer paid first), the page is closed too: the completion arrives by webhook
//! and is decided by the late-payment rule.

use std::time::Duration;

use super::backoff::Backoff;
use crate::domain::{ReservationId, ReservationStatus};
use crate::limits::SESSION_EXPIRY_SCAN_INTERVAL_MS;
use crate::service::Services;
use crate::stripe::{StripeClient, StripeError};

pub struct SessionExpiryWorker {
    services: Services,
    stripe: StripeClient,
    backoff: Backoff<ReservationId>,
}

impl SessionExpiryWorker {
    pub fn new(services: Services, stripe: StripeClient) -> Self {
        Self { services, stripe, backoff: Backoff::default() }
    }

    /// Runs forever on the current actix system, one pass per scan interval.
    pub fn spawn(mut self) {
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(Duration::from_millis(SESSION_EXPIRY_SCAN_INTERVAL_MS));
            loop {
                tick.tick().await;
                self.pass().await;
            }
        });
    }

    /// Closes every page due to close; returns how many were closed.
    pub async fn pass(&mut self) -> usize {
        let open = match self.services.log().open_checkouts() {
            Ok(open) => open,
            Err(error) => {
                tracing::error!(%error, "cannot read open checkout pages");
                return 0;
            }
        };
        let mut closed = 0;
        for (_, id) in open {
            if self.backoff.is_waiting(&id) {
                continue;
            }
            match self.close(id).await {
                Ok(true) => {
                    self.backoff.succeeded(&id);
                    closed += 1;
                }
                Ok(false) => {}
                Err(error) => {
                    let (attempts, delay) = self.backoff.failed(id);
                    tracing::warn!(reservation = %id, attempts, ?delay, %error, "checkout page not closed yet");
                }
            }
        }
        closed
    }

    /// Closes one page if its hold has ended; `Ok(false)` when it must stay open.
    async fn close(&self, id: ReservationId) -> Result<bool, String> {
        let view = self.services.reservations.reservation(id).await.map_err(|e| e.to_string())?;
        let Some(checkout) = view.checkout.filter(|_| view.checkout_to_close) else { return Ok(false) };
        if view.status != ReservationStatus::Confirmed {
            let key = format!("expire:{}", checkout.session_id);
            match self.stripe.expire_checkout_session(&checkout.session_id, &key).await {
                Ok(_) => tracing::info!(reservation = %id, session = %checkout.session_id, "checkout session expired"),
                // Not open any more (paid or expired at Stripe): the webhook tells the rest.
                Err(StripeError::Api { status: 400, .. }) => {}
                Err(other) => return Err(other.to_string()),
            }
        }
        self.services.payments.close_checkout(id, checkout.session_id).await.map_err(|e| e.to_string())?;
        Ok(true)
    }
}
