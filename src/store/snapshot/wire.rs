//! The frozen wire shapes of a snapshot (format: `snapshots/README.md`).
//!
//! Like `store::wire` for log records, these types are the on-disk contract and are
//! separate from the domain types, so a refactor of the domain cannot change the bytes
//! silently. They reuse two frozen log shapes, `VenueV1` and `RefundReasonV1`, which the
//! event rules already forbid changing. Never reorder,
//! retype or remove a field or variant: a changed shape is a new `StoredSnapshot`
//! version. Times are integer microseconds since the Unix epoch (UTC).

use serde::{Deserialize, Serialize};

use crate::store::wire::{RefundReasonV1, VenueV1};

/// Outer envelope: the variant index is the snapshot's version tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredSnapshot {
    V1(SnapshotV1),
    /// V1 tied to its log, with what V1 cannot say about refunds.
    V2(SnapshotV2),
    /// V2 with the windows' waitlists (written only when a window has one).
    V3(SnapshotV3),
}

/// A V2 snapshot plus what it cannot say about waitlists: each queue's order and the
/// offers made. Written only when some window has waitlist state, so a snapshot without
/// any stays a V2 (readable by a build from before the waitlist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotV3 {
    pub v2: SnapshotV2,
    /// Only windows with a queue or an offer, in `v2.body.windows` order.
    pub waitlists: Vec<WaitlistStateV3>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistStateV3 {
    pub venue_id: String,
    pub start_us: i64,
    /// The queue, head first; each names a reservation of status `Waitlisted`.
    pub queue: Vec<QueuedV3>,
    /// Reservations that were offered their slots from the queue, by reservation id.
    pub offers: Vec<OfferV3>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedV3 {
    pub reservation_id: [u8; 16],
    pub quantity: u32,
    pub offer_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferV3 {
    pub reservation_id: [u8; 16],
    pub offered_at_us: i64,
}

/// A snapshot with the checksum of the log record it ends at, so that start-up can tell
/// a snapshot of this log from one of a different history (a log that lost its tail in
/// a power loss and then grew past the snapshot's position again), and the refund
/// states V1 cannot hold: what was refunded and which debts wait for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotV2 {
    /// The CRC-32C stored with the log record at `body.last_seq` (the last 4 bytes of
    /// its encoding); 0 when `last_seq` is 0. `None`: not tied to a log (tests,
    /// benchmarks), checked like a V1 snapshot.
    pub anchor_crc: Option<u32>,
    pub body: SnapshotV1,
    /// Only refunds with something to say, ordered by (venue id, start, reservation id,
    /// payment intent) as they appear in `body`.
    pub refunds: Vec<RefundStateV2>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundStateV2 {
    pub venue_id: String,
    pub start_us: i64,
    pub reservation_id: [u8; 16],
    pub payment_intent: String,
    /// What the provider's refunds added up to, once settled.
    pub refunded_minor: Option<u64>,
    pub failure: Option<RefundFailureV2>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundFailureV2 {
    pub attempts: u32,
    pub error: String,
    pub failed_at_us: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotV1 {
    /// Seq of the last log record folded in: every record with a seq <= it is
    /// reflected, none after it.
    pub last_seq: u64,
    /// Version tag of the log records it was built from (`StoredRecord::V1` = 0).
    pub record_version: u32,
    /// When the snapshotter took it (decides which windows were still live).
    pub taken_at_us: i64,
    /// Every registered venue in its latest form, ordered by id.
    pub venues: Vec<VenueV1>,
    /// Every live window, ordered by (venue id, start).
    pub windows: Vec<WindowSnapV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSnapV1 {
    pub venue_id: String,
    pub start_us: i64,
    pub capacity: u32,
    pub opened: bool,
    /// Ordered by reservation id (bytes).
    pub reservations: Vec<ReservationSnapV1>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationSnapV1 {
    pub id: [u8; 16],
    pub quantity: u32,
    pub placed_at_us: i64,
    pub expires_at_us: i64,
    pub email: Option<String>,
    pub status: StatusV1,
    /// The payment that confirmed it: with `refunds`, the payment dedupe state.
    pub payment_ref: Option<String>,
    pub confirmed_at_us: Option<i64>,
    pub refunds: Vec<RefundSnapV1>,
    pub checkout: Option<CheckoutSnapV1>,
}

/// Stored statuses only (`refund_owed` / `refunded` are derived from `refunds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusV1 {
    Held,
    Confirmed,
    Expired,
    Cancelled,
    /// Queued (appended with V3: only a V3 snapshot, whose queue orders them, has it).
    Waitlisted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundSnapV1 {
    pub payment_intent: String,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub reason: RefundReasonV1,
    /// `None` while the refund is still owed.
    pub refund_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSnapV1 {
    pub session_id: String,
    pub url: String,
    pub expires_at_us: i64,
    pub closed: bool,
}
