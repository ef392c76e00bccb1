//! One reservation inside a window, and the read-only view handed to callers.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{Amount, Checkout, RefundFailure, RefundReason, ReservationId, WindowKey};

/// Where a reservation stands. `Held` counts against capacity until `expires_at`.
/// `RefundOwed` and `Refunded` are only ever shown (a reservation that did not get its
/// slot but was paid for, before and after the refund); the others are stored.
/// `Waitlisted`: queued on a sold-out window (see `waitlist`), counting against nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    Held,
    Confirmed,
    Expired,
    Cancelled,
    RefundOwed,
    Refunded,
    Waitlisted,
}

impl ReservationStatus {
    /// Every status, in declaration order (the API documents these strings).
    pub const ALL: [Self; 7] = [
        Self::Held,
        Self::Confirmed,
        Self::Expired,
        Self::Cancelled,
        Self::RefundOwed,
        Self::Refunded,
        Self::Waitlisted,
    ];

    /// The status as the API writes it: the one place its string is defined.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Confirmed => "confirmed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::RefundOwed => "refund_owed",
            Self::Refunded => "refunded",
            Self::Waitlisted => "waitlisted",
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: ReservationId,
    pub quantity: u32,
    pub placed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub email: Option<String>,
    pub status: ReservationStatus,
    /// Set once confirmed: the payment that confirmed it.
    pub payment_ref: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Payments that must go (or went) back, one per payment intent.
    pub refunds: Vec<Refund>,
    /// The provider's checkout page, once opened (Stripe; the dev page needs none).
    pub checkout: Option<Checkout>,
    /// Set when a waitlist entry was offered its slots and became this hold.
    pub offered_at: Option<DateTime<Utc>>,
}

/// A refund owed for one payment; `refund_id` is set once the provider paid it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub payment_intent: String,
    /// What the payment took, as the provider reported it: what is owed back.
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub reason: RefundReason,
    /// The refund at the provider that settled the debt (the last, if several did).
    pub refund_id: Option<String>,
    /// What the provider's refunds for this payment add up to, once settled (`None`
    /// for a debt of unknown amount, refunded in full, or settled before it was kept).
    pub refunded_minor: Option<u64>,
    /// Set while the worker has given up and an operator must act.
    pub failure: Option<RefundFailure>,
}

impl Reservation {
    /// A held reservation with nothing paid, opened or offered yet.
    pub fn new(id: ReservationId, quantity: u32, placed_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> Self {
        Self {
            id,
            quantity,
            placed_at,
            expires_at,
            email: None,
            status: ReservationStatus::Held,
            payment_ref: None,
            confirmed_at: None,
            refunds: Vec::new(),
            checkout: None,
            offered_at: None,
        }
    }

    /// A hold still counts only while `now` is before its expiry.
    pub fn is_live_hold(&self, now: DateTime<Utc>) -> bool {
        self.status == ReservationStatus::Held && now < self.expires_at
    }

    /// The state of the hold at `now`: a held reservation past its expiry is expired
    /// even before `HoldExpired` is written (and a queued entry once its window ended,
    /// its `expires_at`). Refunds do not show here.
    pub fn status_at(&self, now: DateTime<Utc>) -> ReservationStatus {
        let waiting = matches!(self.status, ReservationStatus::Held | ReservationStatus::Waitlisted);
        if waiting && now >= self.expires_at { ReservationStatus::Expired } else { self.status }
    }

    /// The status a customer sees: a confirmed reservation stays confirmed (a second
    /// payment's refund does not change that); one that was paid for but got no slot is
    /// `refund_owed`, then `refunded`.
    pub fn public_status_at(&self, now: DateTime<Utc>) -> ReservationStatus {
        let status = self.status_at(now);
        if status == ReservationStatus::Confirmed || self.refunds.is_empty() {
            return status;
        }
        match self.refunds.iter().all(|r| r.is_settled()) {
            true => ReservationStatus::Refunded,
            false => ReservationStatus::RefundOwed,
        }
    }
}

/// A reservation as callers see it at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationView {
    pub window: WindowKey,
    pub id: ReservationId,
    pub quantity: u32,
    pub status: ReservationStatus,
    pub placed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Shown to operators only; the public JSON never carries it.
    pub email: Option<String>,
    /// The payment that confirmed it, if any.
    pub payment_ref: Option<String>,
    pub refunds: Vec<Refund>,
    pub checkout: Option<Checkout>,
    /// The checkout page is open but its hold has ended: close it at the provider.
    pub checkout_to_close: bool,
    /// What it costs: decided by the price in force when the hold was placed.
    pub amount: Amount,
    /// When a waitlist entry was offered its slots (it is then `held`).
    pub offered_at: Option<DateTime<Utc>>,
    /// Place in the window's waitlist while `waitlisted`, 1 = next.
    pub position: Option<u32>,
}

impl ReservationView {
    /// The view at `now`; `prices` is the venue's price history, which fixes the amount.
    pub fn of(window: &WindowKey, r: &Reservation, prices: &super::PriceHistory, now: DateTime<Utc>) -> Self {
        Self {
            window: window.clone(),
            id: r.id,
            quantity: r.quantity,
            status: r.public_status_at(now),
            placed_at: r.placed_at,
            expires_at: r.expires_at,
            confirmed_at: r.confirmed_at,
            email: r.email.clone(),
            payment_ref: r.payment_ref.clone(),
            refunds: r.refunds.clone(),
            checkout: r.checkout.clone(),
            checkout_to_close: r.checkout_to_close(now).is_some(),
            amount: prices.amount_of(r.placed_at, r.quantity),
            offered_at: r.offered_at,
            position: None,
        }
    }
}
