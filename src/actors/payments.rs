//! The payment side of the facade: a provider's payment and its refunds, routed to the
//! reservation's window actor, which decides (confirm or owe a refund) in one place.

use super::{Booking, BookingError};
use crate::domain::{Checkout, Command, Payment, ReservationId, ReservationView};

impl Booking {
    /// Records a provider's payment; answers once the outcome (confirmation or refund
    /// owed) is durable. The same payment reported again changes nothing.
    pub async fn record_payment(&self, id: ReservationId, payment: Payment) -> Result<ReservationView, BookingError> {
        let window = self.log().reservation_window(&id)?.ok_or(BookingError::ReservationNotFound)?;
        // The whole history: the window checks the payment against its hold's price.
        let prices = self.venues().prices(&window.venue_id).ok_or(BookingError::ReservationNotFound)?;
        self.execute(id, Command::RecordPayment { reservation_id: id, payment, prices }).await
    }

    /// Records that the provider paid back the refund owed for `payment_intent` with
    /// `refund_ids` (never empty), adding up to `refunded_minor` when known.
    pub async fn record_refund(
        &self,
        id: ReservationId,
        payment_intent: String,
        refund_ids: Vec<String>,
        refunded_minor: Option<u64>,
    ) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::RecordRefund { reservation_id: id, payment_intent, refund_ids, refunded_minor }).await
    }

    /// Records that the refund worker gave up on the refund of `payment_intent`: it
    /// waits for an operator (it is still owed).
    pub async fn fail_refund(
        &self,
        id: ReservationId,
        payment_intent: String,
        attempts: u32,
        error: String,
    ) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::FailRefund { reservation_id: id, payment_intent, attempts, error }).await
    }

    /// An operator hands every failed refund of a reservation back to the worker.
    pub async fn retry_refunds(&self, id: ReservationId, by: String) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::RetryRefunds { reservation_id: id, by }).await
    }
}

impl Booking {
    /// Records the provider's checkout page of a held reservation.
    pub async fn open_checkout(&self, id: ReservationId, checkout: Checkout) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::OpenCheckout { reservation_id: id, checkout }).await
    }

    /// Records that the checkout page can take no payment any more.
    pub async fn close_checkout(&self, id: ReservationId, session_id: String) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::CloseCheckout { reservation_id: id, session_id }).await
    }
}
