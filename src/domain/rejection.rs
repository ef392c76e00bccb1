//! Rejections: a command that the rules refuse. These are answers, not failures.

use chrono::{DateTime, Utc};

use super::ReservationStatus;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("not enough slots left in this window ({available} available)")]
    SoldOut { available: u32 },
    #[error("quantity must be 1..={max}, got {got}")]
    InvalidQuantity { got: u32, max: u32 },
    #[error("window_start must be aligned to a 15-minute boundary (UTC)")]
    WindowNotAligned,
    #[error("this window ended at {end}")]
    WindowEnded { end: DateTime<Utc> },
    #[error("this window lies beyond the sales horizon ({horizon_days} days)")]
    BeyondHorizon { horizon_days: u32 },
    #[error("no such reservation in this window")]
    UnknownReservation,
    #[error("a reservation with this id already exists")]
    DuplicateReservation,
    #[error("this reservation is already confirmed by another payment")]
    AlreadyConfirmed,
    #[error("this reservation is {status} and cannot be changed")]
    NotActive { status: ReservationStatus },
    #[error("this window keeps too many reservations; try another window")]
    WindowFull,
    #[error("email must be an address of at most 254 bytes")]
    InvalidEmail,
    #[error("no refund is owed for this payment")]
    NoRefundOwed,
    #[error("no refund of this reservation is waiting for an operator")]
    NoFailedRefund,
    #[error("another checkout page is already open for this reservation")]
    CheckoutAlreadyOpen,
    #[error("no such checkout page for this reservation")]
    UnknownCheckout,
    #[error("this window has no events yet; its capacity comes from the schedule")]
    WindowNotOpened,
}

impl Rejection {
    /// A stable machine-readable code, used verbatim in API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SoldOut { .. } => "sold_out",
            Self::InvalidQuantity { .. } => "invalid_quantity",
            Self::WindowNotAligned => "window_not_aligned",
            Self::WindowEnded { .. } => "window_ended",
            Self::BeyondHorizon { .. } => "beyond_horizon",
            Self::UnknownReservation => "reservation_not_found",
            Self::DuplicateReservation => "duplicate_reservation",
            Self::AlreadyConfirmed => "already_confirmed",
            Self::NotActive { status } => match status {
                ReservationStatus::Confirmed => "already_confirmed",
                ReservationStatus::Cancelled => "reservation_cancelled",
                ReservationStatus::RefundOwed | ReservationStatus::Refunded => "reservation_refunded",
                ReservationStatus::Waitlisted => "reservation_waitlisted",
                _ => "hold_expired",
            },
            Self::WindowFull => "window_full",
            Self::InvalidEmail => "invalid_email",
            Self::NoRefundOwed => "no_refund_owed",
            Self::NoFailedRefund => "no_failed_refund",
            Self::CheckoutAlreadyOpen => "checkout_already_open",
            Self::UnknownCheckout => "checkout_not_found",
            Self::WindowNotOpened => "window_not_opened",
        }
    }
}
