//! What the payment provider reports, recorded in the reservation's window: a payment
//! and its refunds, and the checkout page opened for a hold or closed. The window
//! decides (confirm, or owe a refund) in one place; this service only routes the
//! reports there. The provider's side (Stripe calls, workers) is `crate::payments`.

use super::{ServiceError, Venues, Windows};
use crate::domain::{Checkout, Command, Payment, ReservationId, ReservationView};

/// Cheap to clone.
#[derive(Clone)]
pub struct PaymentRecords {
    windows: Windows,
    venues: Venues,
}

impl PaymentRecords {
    pub fn new(windows: Windows, venues: Venues) -> Self {
        Self { windows, venues }
    }

    /// Records a provider's payment; answers once the outcome (confirmation or refund
    /// owed) is durable. The same payment reported again changes nothing.
    pub async fn record_payment(&self, id: ReservationId, payment: Payment) -> Result<ReservationView, ServiceError> {
        let window = self.windows.window_of(id)?;
        // The whole history: the window checks the payment against its hold's price.
        let prices = self.venues.prices(&window.venue_id).ok_or(ServiceError::ReservationNotFound)?;
        self.windows.execute(id, Command::RecordPayment { reservation_id: id, payment, prices }).await
    }

    /// Records a payment known only by its reference (the dev checkout page); the same
    /// `payment_ref` twice is a no-op.
    pub async fn confirm(&self, id: ReservationId, payment_ref: String) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::Confirm { reservation_id: id, payment_ref }).await
    }

    /// Records that the provider paid back the refund owed for `payment_intent` with
    /// `refund_ids` (never empty), adding up to `refunded_minor` when known.
    pub async fn record_refund(
        &self,
        id: ReservationId,
        payment_intent: String,
        refund_ids: Vec<String>,
        refunded_minor: Option<u64>,
    ) -> Result<ReservationView, ServiceError> {
        let command = Command::RecordRefund { reservation_id: id, payment_intent, refund_ids, refunded_minor };
        self.windows.execute(id, command).await
    }

    /// Records that the refund worker gave up on the refund of `payment_intent`: it
    /// waits for an operator (it is still owed).
    pub async fn fail_refund(
        &self,
        id: ReservationId,
        payment_intent: String,
        attempts: u32,
        error: String,
    ) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::FailRefund { reservation_id: id, payment_intent, attempts, error }).await
    }

    /// An operator hands every failed refund of a reservation back to the worker.
    pub async fn retry_refunds(&self, id: ReservationId, by: String) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::RetryRefunds { reservation_id: id, by }).await
    }

    /// Records the provider's checkout page of a held reservation.
    pub async fn open_checkout(&self, id: ReservationId, checkout: Checkout) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::OpenCheckout { reservation_id: id, checkout }).await
    }

    /// Records that the checkout page can take no payment any more.
    pub async fn close_checkout(&self, id: ReservationId, session_id: String) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::CloseCheckout { reservation_id: id, session_id }).await
    }
}
