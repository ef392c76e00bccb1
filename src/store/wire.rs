//! The frozen wire shapes of log records (catalogue: `events/README.md`).
//!
//! postcard is positional and not self-describing, so these types are the on-disk
//! contract: never reorder, retype or remove a field or variant. New event variants go
//! at the end of their enum; a change to an existing shape is a new `StoredRecord`
//! version with its own frozen types, and old versions keep decoding forever. Times are
//! integer microseconds since the Unix epoch (UTC).

use serde::{Deserialize, Serialize};

/// Outer envelope: the variant index is the record's version tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredRecord {
    V1(RecordV1),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordV1 {
    pub recorded_at_us: i64,
    pub body: BodyV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyV1 {
    Venue(VenueEventV1),
    Window {
        window: WindowKeyV1,
        event: WindowEventV1,
    },
    Idempotency(IdempotencyV1),
    /// The answer to a keyed create request that asked to join the waitlist when sold
    /// out (`"waitlist": true`); otherwise the same as `Idempotency`.
    IdempotencyWaitlist(IdempotencyV1),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowKeyV1 {
    pub venue_id: String,
    pub start_us: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowEventV1 {
    WindowOpened {
        capacity: u32,
    },
    HoldPlaced {
        reservation_id: [u8; 16],
        quantity: u32,
        placed_at_us: i64,
        expires_at_us: i64,
        email: Option<String>,
    },
    HoldConfirmed {
        reservation_id: [u8; 16],
        payment_ref: String,
        confirmed_at_us: i64,
        late: bool,
    },
    HoldCancelled {
        reservation_id: [u8; 16],
        cancelled_at_us: i64,
    },
    HoldExpired {
        reservation_id: [u8; 16],
        expired_at_us: i64,
    },
    RefundOwed {
        reservation_id: [u8; 16],
        payment_intent: String,
        amount_minor: Option<u64>,
        currency: Option<String>,
        reason: RefundReasonV1,
        owed_at_us: i64,
    },
    RefundIssued {
        reservation_id: [u8; 16],
        payment_intent: String,
        refund_id: String,
        issued_at_us: i64,
    },
    CheckoutOpened {
        reservation_id: [u8; 16],
        session_id: String,
        url: String,
        expires_at_us: i64,
        opened_at_us: i64,
    },
    CheckoutClosed {
        reservation_id: [u8; 16],
        session_id: String,
        closed_at_us: i64,
    },
    /// `by`: the operator who changed the venue's schedule (admin API).
    CapacityChanged {
        capacity: u32,
        changed_at_us: i64,
        by: String,
    },
    /// `by`: the operator who released the hold (admin API).
    HoldReleased {
        reservation_id: [u8; 16],
        released_at_us: i64,
        by: String,
    },
    /// Ends a debt (supersedes `RefundIssued`): `refund_ids` (never empty) are the
    /// provider's refunds that count, adding up to `refunded_minor` when known.
    RefundSettled {
        reservation_id: [u8; 16],
        payment_intent: String,
        refund_ids: Vec<String>,
        refunded_minor: Option<u64>,
        settled_at_us: i64,
    },
    /// The refund worker gave up after `attempts`; `error` is the provider's last answer.
    RefundFailed {
        reservation_id: [u8; 16],
        payment_intent: String,
        attempts: u32,
        error: String,
        failed_at_us: i64,
    },
    /// `by`: the operator who handed the failed refund back to the worker (admin API).
    RefundRetried {
        reservation_id: [u8; 16],
        payment_intent: String,
        retried_at_us: i64,
        by: String,
    },
    /// A sold-out request joined the window's waitlist; an offer to it stays open
    /// `offer_secs`.
    WaitlistJoined {
        reservation_id: [u8; 16],
        quantity: u32,
        joined_at_us: i64,
        email: Option<String>,
        offer_secs: u32,
    },
    /// The head of the waitlist was offered its slots: a hold until `expires_at_us`.
    WaitlistOffered {
        reservation_id: [u8; 16],
        offered_at_us: i64,
        expires_at_us: i64,
    },
    /// The customer left the waitlist.
    WaitlistLeft {
        reservation_id: [u8; 16],
        left_at_us: i64,
    },
    /// The window ended with the entry still queued.
    WaitlistExpired {
        reservation_id: [u8; 16],
        expired_at_us: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefundReasonV1 {
    SoldOut,
    WindowEnded,
    AlreadyConfirmed,
    AmountMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VenueEventV1 {
    VenueRegistered(VenueV1),
    /// `by`: the operator who created or replaced the venue (admin API).
    VenueChanged {
        venue: VenueV1,
        by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueV1 {
    pub id: String,
    pub name: String,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub price_minor: u64,
    pub currency: String,
    pub hold_ttl_secs: u32,
    pub default_slots_per_hour: u32,
    pub overrides: Vec<HourOverrideV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourOverrideV1 {
    /// 0 = Monday .. 6 = Sunday.
    pub weekday: u8,
    pub hour: u8,
    pub slots_per_hour: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyV1 {
    pub key: String,
    pub venue_id: String,
    pub quantity: Option<u32>,
    pub window_start_us: Option<i64>,
    pub email: Option<String>,
    pub outcome: IdempotentOutcomeV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdempotentOutcomeV1 {
    Reserved { window: WindowKeyV1, reservation_id: [u8; 16] },
    SoldOut { available: u32 },
}
