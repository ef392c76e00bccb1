//! The payment side of the facade: a provider's payment and its refunds, routed to the
//! reservation's window actor, which decides (confirm or owe a refund) in one place.

use super::{Booking, BookingError};
use crate::domain::{Command, Payment, Price, ReservationId, ReservationView};

impl Booking {
    /// Records a provider's payment; answers once the outcome (confirmation or refund
    /// owed) is durable. The same payment reported again changes nothing.
    pub async fn record_payment(&self, id: ReservationId, payment: Payment) -> Result<ReservationView, BookingError> {
        let window = self.log().reservation_window(&id)?.ok_or(BookingError::ReservationNotFound)?;
        let venue = self.venues().get(&window.venue_id).ok_or(BookingError::ReservationNotFound)?;
        let price = Price { unit_minor: venue.price_minor, currency: venue.currency.clone() };
        self.execute(id, Command::RecordPayment { reservation_id: id, payment, price }).await
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
