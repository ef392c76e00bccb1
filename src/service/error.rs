//! The one error type of the services: what a use case can fail with, whichever
//! service answered. HTTP maps it to a status once (`http::error`); workers log it.
//! A window's own errors ([`WindowError`]) become these at the window boundary
//! ([`super::windows`]), so no caller sees actor machinery.

use crate::actors::messages::WindowError;
use crate::domain::Rejection;
use crate::limits::{IDEMPOTENCY_KEY_LEN_MAX, RECORD_BYTES_MAX};
use crate::store::{JournalError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no venue with id {0:?}")]
    UnknownVenue(String),
    #[error("no reservation with this id")]
    ReservationNotFound,
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// `Rejection::SoldOut` answered to a request without the waitlist flag, saying
    /// whether the window would have queued it.
    #[error("not enough slots left in this window ({available} available)")]
    SoldOut { available: u32, waitlist: bool },
    #[error("Idempotency-Key must be 1..={IDEMPOTENCY_KEY_LEN_MAX} printable ASCII characters")]
    BadIdempotencyKey,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress; retry shortly")]
    IdempotencyInProgress,
    #[error("the window did not answer in time; retry shortly")]
    Busy,
    #[error("{0}")]
    Unavailable(String),
    #[error("window {window} refuses service: its log is corrupt at position {seq} ({reason})")]
    WindowCorrupt { window: String, seq: u64, reason: String },
    #[error("invalid range: {0}")]
    BadRange(String),
    #[error("this client already holds {max} unpaid slots; pay or cancel a hold first")]
    TooManyActiveHolds { max: u32 },
    #[error("at most {max} venues")]
    TooManyVenues { max: usize },
    #[error("the request would make a record of {bytes} bytes, over the limit of {max}")]
    RecordTooLarge { bytes: usize, max: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<JournalError> for ServiceError {
    fn from(error: JournalError) -> Self {
        match error {
            JournalError::RecordTooLarge(e) => Self::RecordTooLarge { bytes: e.bytes, max: RECORD_BYTES_MAX },
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<WindowError> for ServiceError {
    fn from(error: WindowError) -> Self {
        match error {
            WindowError::Rejected(Rejection::UnknownReservation) => Self::ReservationNotFound,
            WindowError::Rejected(rejection) => Self::Rejected(rejection),
            WindowError::Unavailable(reason) => Self::Unavailable(reason),
            WindowError::Corrupt { window, seq, reason } => Self::WindowCorrupt { window, seq, reason },
            WindowError::RecordTooLarge(bytes) => Self::RecordTooLarge { bytes, max: RECORD_BYTES_MAX },
        }
    }
}
