//! One reservation inside a window, and the read-only view handed to callers.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{ReservationId, WindowKey};

/// Where a reservation stands. `Held` counts against capacity until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    Held,
    Confirmed,
    Expired,
    Cancelled,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Confirmed => "confirmed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
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
}

impl Reservation {
    /// A hold still counts only while `now` is before its expiry.
    pub fn is_live_hold(&self, now: DateTime<Utc>) -> bool {
        self.status == ReservationStatus::Held && now < self.expires_at
    }

    /// The status as a customer should see it at `now`: a held reservation past its
    /// expiry is expired even before `HoldExpired` is written.
    pub fn status_at(&self, now: DateTime<Utc>) -> ReservationStatus {
        if self.status == ReservationStatus::Held && now >= self.expires_at {
            ReservationStatus::Expired
        } else {
            self.status
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
}

impl ReservationView {
    pub fn of(window: &WindowKey, r: &Reservation, now: DateTime<Utc>) -> Self {
        Self {
            window: window.clone(),
            id: r.id,
            quantity: r.quantity,
            status: r.status_at(now),
            placed_at: r.placed_at,
            expires_at: r.expires_at,
            confirmed_at: r.confirmed_at,
        }
    }
}
