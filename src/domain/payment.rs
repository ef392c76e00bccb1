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

    /// What a hold of `quantity` placed at `placed_at` costs: the one place a price is
    /// multiplied. The reservation's view, the checkout page and the payment check all
    /// take their amount from here, so none can disagree after a price change.
    pub fn amount_of(&self, placed_at: DateTime<Utc>, quantity: u32) -> Amount {
        let price = self.at(placed_at);
        Amount { unit_minor: price.unit_minor, quantity, currency: price.currency.clone() }
    }
}

/// What one reservation costs: its quantity at the unit price of the moment its hold
/// was placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    pub unit_minor: u64,
    pub quantity: u32,
    pub currency: String,
}

impl Amount {
    /// The total in minor units (saturating: prices and quantities are bounded far
    /// below an overflow by `PRICE_MINOR_MAX` and `RESERVATION_QUANTITY_MAX`).
    pub fn total_minor(&self) -> u64 {
        self.unit_minor.saturating_mul(u64::from(self.quantity))
    }

    /// True when `payment` reports exactly this. An amount or currency the provider did
    /// not report (or reported unreadably) cannot be checked, so it is a mismatch: the
    /// money is owed back rather than a reservation confirmed for an unknown sum.
    pub fn is_paid_by(&self, payment: &Payment) -> bool {
        payment.amount_minor.is_some_and(|amount| amount == self.total_minor())
            && payment.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&self.currency))
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
    /// Every reason, in declaration order (the API documents these strings).
    pub const ALL: [Self; 4] = [Self::SoldOut, Self::WindowEnded, Self::AlreadyConfirmed, Self::AmountMismatch];

    /// The reason as the API and metrics write it: the one place its string is defined.
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
        if !prices.amount_of(r.placed_at, r.quantity).is_paid_by(payment) {
            return refund(RefundReason::AmountMismatch);
        }
        if r.status == ReservationStatus::Confirmed {
            return refund(RefundReason::AlreadyConfirmed);
        }
        // A queued entry has nothing to pay yet (no checkout page is shown for it).
        if r.status == ReservationStatus::Waitlisted {
            let ended = now >= self.key.end();
            return refund(if ended { RefundReason::WindowEnded } else { RefundReason::SoldOut });
        }
        match self.decide_confirm(id, &payment.intent, room, now) {
            Err(Rejection::WindowEnded { .. }) => refund(RefundReason::WindowEnded),
            Err(Rejection::SoldOut { .. }) => refund(RefundReason::SoldOut),
            other => other,
        }
    }
}
