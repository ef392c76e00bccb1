//! Messages a window actor answers, and its error type.

use actix::Message;

use crate::domain::{
    Command, Rejection, ReservationId, ReservationView, ReserveRequest, VenueId, Window, WindowCounts,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The window cannot serve: its log failed to load or the journal failed.
    #[error("window unavailable: {0}")]
    Unavailable(String),
    /// A record of the window's log is unreadable or illegal: the window refuses
    /// service rather than answer from a state that is not its log's.
    #[error("window {window} is corrupt at log position {seq}: {reason}")]
    Corrupt { window: String, seq: u64, reason: String },
    /// The command's record would be this many bytes, over `RECORD_BYTES_MAX`: the
    /// command is refused, nothing changed.
    #[error("the command's record would be {0} bytes, over the limit of {max}", max = crate::limits::RECORD_BYTES_MAX)]
    RecordTooLarge(usize),
}

/// The `Idempotency-Key` of a create request, recorded with its answer.
#[derive(Debug, Clone)]
pub struct IdempotencyTag {
    pub key: String,
    pub venue_id: VenueId,
    pub request: ReserveRequest,
}

/// Run a command; answers with the reservation it concerns once durable.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<ReservationView>, WindowError>")]
pub struct Execute {
    pub command: Command,
    pub idempotency: Option<IdempotencyTag>,
}

/// Counts at the time of the message, once everything they reflect is durable, with
/// the window's live version (see `LiveHub::next_version`), so a live stream can tell
/// which of two counts of one window is newer.
#[derive(Debug, Message)]
#[rtype(result = "Result<(WindowCounts, u64), WindowError>")]
pub struct GetCounts;

#[derive(Debug, Message)]
#[rtype(result = "Result<ReservationView, WindowError>")]
pub struct GetReservation(pub ReservationId);

/// The venue's schedule now gives this window `capacity`. An opened window records
/// `CapacityChanged` (naming `by`); an unopened one will simply open with it.
/// Answers the counts after the change, once durable.
#[derive(Debug, Message)]
#[rtype(result = "Result<WindowCounts, WindowError>")]
pub struct Reschedule {
    pub capacity: u32,
    pub by: String,
}

/// Counts and every reservation of the window (for operators), once durable.
#[derive(Debug, Message)]
#[rtype(result = "Result<(WindowCounts, Vec<ReservationView>), WindowError>")]
pub struct ListReservations;

/// The window's whole state (for the state digest), once everything in it is durable.
#[derive(Debug, Message)]
#[rtype(result = "Result<Box<Window>, WindowError>")]
pub struct GetState;
