//! What one log record says, in domain terms. Every record is one of these.

use crate::domain::{ReservationId, ReserveRequest, VenueEvent, VenueId, WindowEvent, WindowKey};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Venue(VenueEvent),
    Window(WindowKey, WindowEvent),
    /// The answer given to a keyed create-reservation request, so that a retry with the
    /// same `Idempotency-Key` gets the same answer even after a restart.
    Idempotency(IdempotencyEntry),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyEntry {
    pub key: String,
    pub venue_id: VenueId,
    pub request: ReserveRequest,
    pub outcome: IdempotentOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentOutcome {
    Reserved { window: WindowKey, reservation_id: ReservationId },
    SoldOut { available: u32 },
}
