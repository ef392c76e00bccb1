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

    /// Records that the provider accepted the refund of `payment_intent`.
    pub async fn record_refund(
        &self,
        id: ReservationId,
        payment_intent: String,
        refund_id: String,
    ) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::RecordRefund { reservation_id: id, payment_intent, refund_id }).await
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
