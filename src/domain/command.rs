//! Commands: what a caller asks a window to do, in the imperative.

use chrono::Duration;

use super::{Checkout, Payment, PriceHistory, ReservationId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Hold `quantity` slots for `hold_ttl`, under a caller-chosen random id. With
    /// `waitlist_offer_secs`, a sold-out window queues the request instead of refusing
    /// it, and an offer to it later stays open that long.
    PlaceHold {
        reservation_id: ReservationId,
        quantity: u32,
        hold_ttl: Duration,
        email: Option<String>,
        waitlist_offer_secs: Option<u32>,
    },
    /// Record a payment for a reservation; `payment_ref` identifies the payment, so the
    /// same payment delivered twice changes nothing.
    Confirm { reservation_id: ReservationId, payment_ref: String },
    /// Record a payment the provider reports (Stripe). Unlike `Confirm` it never fails
    /// for lack of room: money was taken, so the answer is a confirmation or a refund.
    RecordPayment { reservation_id: ReservationId, payment: Payment, prices: PriceHistory },
    /// Record that the provider paid back the refund owed for `payment_intent`, with
    /// `refund_ids` (never empty) adding up to `refunded_minor` when known.
    RecordRefund {
        reservation_id: ReservationId,
        payment_intent: String,
        refund_ids: Vec<String>,
        refunded_minor: Option<u64>,
    },
    /// Stop retrying the refund of `payment_intent`: the provider keeps refusing it.
    FailRefund { reservation_id: ReservationId, payment_intent: String, attempts: u32, error: String },
    /// Hand every failed refund of a reservation back to the worker (an operator).
    RetryRefunds { reservation_id: ReservationId, by: String },
    /// Record the provider's checkout page opened for a reservation. A page whose hold
    /// ended meanwhile is recorded too, so the session-expiry worker closes it.
    OpenCheckout { reservation_id: ReservationId, checkout: Checkout },
    /// Record that the checkout page can no longer take a payment.
    CloseCheckout { reservation_id: ReservationId, session_id: String },
    /// Release a live hold at the customer's request.
    Cancel { reservation_id: ReservationId },
    /// Set an opened window's capacity (an operator changed the venue's schedule).
    /// Existing holds and confirmations stay; an overcommitted window grants nothing.
    ChangeCapacity { capacity: u32, by: String },
    /// Release a live hold by hand (an operator), recording who did it.
    Release { reservation_id: ReservationId, by: String },
    /// Write `HoldExpired` for every hold whose time has passed (the expiry timer).
    ExpireDue,
}

impl Command {
    pub fn reservation_id(&self) -> Option<ReservationId> {
        match self {
            Self::PlaceHold { reservation_id, .. }
            | Self::Confirm { reservation_id, .. }
            | Self::Cancel { reservation_id }
            | Self::RecordPayment { reservation_id, .. }
            | Self::RecordRefund { reservation_id, .. }
            | Self::FailRefund { reservation_id, .. }
            | Self::RetryRefunds { reservation_id, .. }
            | Self::OpenCheckout { reservation_id, .. }
            | Self::CloseCheckout { reservation_id, .. }
            | Self::Release { reservation_id, .. } => Some(*reservation_id),
            Self::ExpireDue | Self::ChangeCapacity { .. } => None,
        }
    }
}
