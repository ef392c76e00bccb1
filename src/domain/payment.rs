//! Payments reported by a provider (Stripe), and the refunds they may be owed.
//!
//! Money that was taken is never refused silently: a payment either confirms its
//! reservation or is answered with `RefundOwed`, in the same decision, so a crash cannot
//! lose the debt. Each payment intent takes effect once: a redelivered webhook for a
//! payment already confirmed or already refunded changes nothing.

use chrono::{DateTime, Utc};

use super::{Rejection, Reservation, ReservationId, ReservationStatus, Window, WindowEvent};

/// A payment as the provider reports it. `intent` identifies it (Stripe's payment
/// intent); amount and currency are checked against the price (`None`: not reported,
/// which no price matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub intent: String,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
}

/// The venue's price of one queue skip; a reservation costs `quantity` times it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub unit_minor: u64,
    pub currency: String,
}

impl Price {
    pub fn of(venue: &super::Venue) -> Self {
        Self { unit_minor: venue.price_minor, currency: venue.currency.clone() }
    }
}

/// The prices a venue had and since when, so that a payment is checked against the
/// price its hold was sold at, not one an operator set later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceHistory {
    /// Ordered by time, never empty, the first from the beginning of time; each price
    /// holds until the next.
    since: Vec<(DateTime<Utc>, Price)>,
}

impl PriceHistory {
    /// A history whose first price holds from the beginning of time.
    pub fn starting(price: Price) -> Self {
        Self { since: vec![(DateTime::<Utc>::MIN_UTC, price)] }
    }

    /// Records that `price` applies from `at` on (no entry if it is already the price).
    /// Log order wins over clock order: a record stamped earlier than the one before it
    /// (the clock stepped back) takes effect from the previous one's time.
    pub fn record(&mut self, at: DateTime<Utc>, price: Price) {
        let (last_at, current) = self.since.last().expect("a history is never empty");
        if *current != price {
            let at = at.max(*last_at);
            self.since.push((at, price));
        }
    }

    /// The price in force at `at`.
    pub fn at(&self, at: DateTime<Utc>) -> &Price {
        let in_force = self.since.iter().rev().find(|(since, _)| *since <= at);
        &in_force.expect("the first price holds from the beginning of time").1
    }
}

/// Why a payment is refunded. (Discriminants index per-reason tables.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundReason {
    /// Paid after the hold ended, and the window had no room left.
    SoldOut,
    /// Paid after the hold ended and after the window itself ended.
    WindowEnded,
    /// A second, different payment for a reservation already confirmed.
    AlreadyConfirmed,
    /// The amount or currency differs from the reservation's price.
    AmountMismatch,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SoldOut => "sold_out",
            Self::WindowEnded => "window_ended",
            Self::AlreadyConfirmed => "already_confirmed",
            Self::AmountMismatch => "amount_mismatch",
        }
    }
}

impl Reservation {
    /// True when this payment intent already took effect (confirmed it, or is refunded).
    pub fn has_payment(&self, intent: &str) -> bool {
        self.payment_ref.as_deref() == Some(intent) || self.refunds.iter().any(|r| r.payment_intent == intent)
    }
}

/// True when the payment reports exactly the price. An amount or currency the provider
/// did not report (or reported unreadably) cannot be checked, so it is a mismatch: the
/// money is owed back rather than a reservation confirmed for an unknown sum.
fn matches_price(payment: &Payment, price: &Price, quantity: u32) -> bool {
    let expected = price.unit_minor.saturating_mul(u64::from(quantity));
    payment.amount_minor.is_some_and(|amount| amount == expected)
        && payment.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&price.currency))
}

impl Window {
    /// A provider's payment: confirm the reservation (on time, or late if there is room
    /// now) or owe a refund. `room` is the window's free slots at `now`.
    pub(super) fn decide_payment(
        &self,
        id: ReservationId,
        payment: &Payment,
        prices: &PriceHistory,
        room: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        if r.has_payment(&payment.intent) {
            return Ok(None);
        }
        let refund = |reason| {
            Ok(Some(WindowEvent::RefundOwed {
                reservation_id: id,
                payment_intent: payment.intent.clone(),
                amount_minor: payment.amount_minor,
                currency: payment.currency.clone(),
                reason,
                owed_at: now,
            }))
        };
        // The price the hold was sold at: an operator may have changed it since.
        if !matches_price(payment, prices.at(r.placed_at), r.quantity) {
            return refund(RefundReason::AmountMismatch);
        }
        if r.status == ReservationStatus::Confirmed {
            return refund(RefundReason::AlreadyConfirmed);
        }
        match self.decide_confirm(id, &payment.intent, room, now) {
            Err(Rejection::WindowEnded { .. }) => refund(RefundReason::WindowEnded),
            Err(Rejection::SoldOut { .. }) => refund(RefundReason::SoldOut),
            other => other,
        }
    }

    /// The provider accepted a refund; a repeated report changes nothing.
    pub(super) fn decide_refund_issued(
        &self,
        id: ReservationId,
        intent: &str,
        refund_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        let refund = r.refunds.iter().find(|f| f.payment_intent == intent).ok_or(Rejection::NoRefundOwed)?;
        if refund.refund_id.is_some() {
            return Ok(None);
        }
        Ok(Some(WindowEvent::RefundIssued {
            reservation_id: id,
            payment_intent: intent.to_owned(),
            refund_id: refund_id.to_owned(),
            issued_at: now,
        }))
    }

    /// Folds `RefundOwed` / `RefundIssued`; the hold's own state is untouched.
    pub(super) fn apply_refund(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, .. } => {
                let r = self.reservations.get_mut(reservation_id).expect("a refund is owed for a known reservation");
                assert!(!r.has_payment(payment_intent), "{reservation_id}: payment {payment_intent} counted twice");
                r.refunds.push(super::Refund {
                    payment_intent: payment_intent.clone(),
                    amount_minor: *amount_minor,
                    currency: currency.clone(),
                    reason: *reason,
                    refund_id: None,
                });
            }
            WindowEvent::RefundIssued { reservation_id, payment_intent, refund_id, .. } => {
                let r = self.reservations.get_mut(reservation_id).expect("a refund is issued for a known reservation");
                let owed = r.refunds.iter_mut().find(|f| &f.payment_intent == payment_intent);
                let owed = owed.expect("RefundIssued follows its RefundOwed");
                assert!(owed.refund_id.is_none(), "{reservation_id}: refund of {payment_intent} issued twice");
                owed.refund_id = Some(refund_id.clone());
            }
            other => unreachable!("apply_refund only takes refund events, got {other:?}"),
        }
    }
}
