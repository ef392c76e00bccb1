//! Events: the facts qskip records, in past tense. State is their fold.
//!
//! These are the domain's shapes; their frozen wire form lives in `store::wire` and is
//! catalogued in `events/README.md`.

use chrono::{DateTime, Utc};

use super::{Checkout, RefundReason, ReservationId, Venue};

/// Something that happened to one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowEvent {
    /// First event of every window: the capacity it was opened with.
    WindowOpened { capacity: u32 },
    /// A hold of `quantity` slots was granted until `expires_at`.
    HoldPlaced {
        reservation_id: ReservationId,
        quantity: u32,
        placed_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        email: Option<String>,
    },
    /// A reservation was paid for; `late` when its hold had already ended.
    HoldConfirmed { reservation_id: ReservationId, payment_ref: String, confirmed_at: DateTime<Utc>, late: bool },
    /// The customer released a live hold.
    HoldCancelled { reservation_id: ReservationId, cancelled_at: DateTime<Utc> },
    /// A hold reached its expiry and freed its slots.
    HoldExpired { reservation_id: ReservationId, expired_at: DateTime<Utc> },
    /// A payment could not buy a slot (or paid twice, or the wrong amount): its money
    /// must go back. The refund worker acts on it until `RefundIssued`.
    RefundOwed {
        reservation_id: ReservationId,
        payment_intent: String,
        amount_minor: Option<u64>,
        currency: Option<String>,
        reason: RefundReason,
        owed_at: DateTime<Utc>,
    },
    /// A checkout page (Stripe Checkout Session) was opened for the reservation.
    CheckoutOpened { reservation_id: ReservationId, checkout: Checkout, opened_at: DateTime<Utc> },
    /// The checkout page can take no payment any more (expired at the provider, or paid).
    CheckoutClosed { reservation_id: ReservationId, session_id: String, closed_at: DateTime<Utc> },
    /// The provider accepted the refund of `payment_intent` (written before
    /// `RefundSettled` existed; still read, no longer written).
    RefundIssued { reservation_id: ReservationId, payment_intent: String, refund_id: String, issued_at: DateTime<Utc> },
    /// An operator changed the venue's schedule and with it this window's capacity.
    /// Nothing already held or confirmed is taken back.
    CapacityChanged { capacity: u32, changed_at: DateTime<Utc>, by: String },
    /// An operator released a live hold by hand; the reservation is cancelled.
    HoldReleased { reservation_id: ReservationId, released_at: DateTime<Utc>, by: String },
    /// The provider paid the debt for `payment_intent` back: `refund_ids` are the
    /// refunds at the provider that count (ours, or an operator's from the dashboard),
    /// adding up to `refunded_minor` when known. Ends the debt (supersedes `RefundIssued`).
    RefundSettled {
        reservation_id: ReservationId,
        payment_intent: String,
        refund_ids: Vec<String>,
        refunded_minor: Option<u64>,
        settled_at: DateTime<Utc>,
    },
    /// The refund worker gave up on a debt after `attempts` (the provider kept refusing
    /// it, or refused it for good): it waits for an operator. Still owed.
    RefundFailed {
        reservation_id: ReservationId,
        payment_intent: String,
        attempts: u32,
        error: String,
        failed_at: DateTime<Utc>,
    },
    /// An operator handed a failed refund back to the refund worker.
    RefundRetried { reservation_id: ReservationId, payment_intent: String, retried_at: DateTime<Utc>, by: String },
    /// A customer found the window sold out and joined the tail of its waitlist; an
    /// offer to it will stay open `offer_secs`.
    WaitlistJoined {
        reservation_id: ReservationId,
        quantity: u32,
        joined_at: DateTime<Utc>,
        email: Option<String>,
        offer_secs: u32,
    },
    /// Slots freed up and went to the head of the waitlist: the entry is now a hold
    /// until `expires_at`, paid like any hold.
    WaitlistOffered { reservation_id: ReservationId, offered_at: DateTime<Utc>, expires_at: DateTime<Utc> },
    /// The customer left the waitlist (cancelled before any offer).
    WaitlistLeft { reservation_id: ReservationId, left_at: DateTime<Utc> },
    /// The window ended with the entry still queued.
    WaitlistExpired { reservation_id: ReservationId, expired_at: DateTime<Utc> },
}

/// Something that happened to a venue's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueEvent {
    /// A venue was registered (seeded from the config file on first start).
    VenueRegistered(Venue),
    /// An operator created or replaced a venue's definition (admin API).
    VenueChanged { venue: Venue, by: String },
}

impl VenueEvent {
    /// The venue as defined after this event.
    pub fn venue(&self) -> &Venue {
        match self {
            Self::VenueRegistered(venue) | Self::VenueChanged { venue, .. } => venue,
        }
    }
}
