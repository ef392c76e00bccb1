//! Checks on a reservation request that come before any window is asked: quantity
//! bounds and which window is meant (alignment, already over, beyond the horizon).

use chrono::{DateTime, Duration, Utc};

use super::{Rejection, is_window_aligned, window_start_of};
use crate::limits::{RESERVATION_QUANTITY_MAX, WINDOW_SECS};

/// What a customer asks for; `None` fields take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReserveRequest {
    pub quantity: Option<u32>,
    pub window_start: Option<DateTime<Utc>>,
    pub email: Option<String>,
    /// Join the window's waitlist when it is sold out (instead of a 409).
    pub waitlist: bool,
}

impl ReserveRequest {
    /// The requested quantity (default 1), if it is within bounds.
    pub fn quantity(&self) -> Result<u32, Rejection> {
        let quantity = self.quantity.unwrap_or(1);
        if quantity == 0 || quantity > RESERVATION_QUANTITY_MAX {
            return Err(Rejection::InvalidQuantity { got: quantity, max: RESERVATION_QUANTITY_MAX });
        }
        Ok(quantity)
    }
}

/// The window a request targets at `now`: the current one by default; an explicit one
/// must be aligned, not over, and start within `horizon_days`.
pub fn resolve_window_start(
    requested: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    horizon_days: u32,
) -> Result<DateTime<Utc>, Rejection> {
    let Some(start) = requested else {
        return Ok(window_start_of(now));
    };
    if !is_window_aligned(start) {
        return Err(Rejection::WindowNotAligned);
    }
    if super::within_reach(start, now) == Err(super::OutOfReach::Future) {
        return Err(Rejection::BeyondHorizon { horizon_days });
    }
    let horizon = now + Duration::days(i64::from(horizon_days));
    // Checked: a client may send any date chrono can parse, up to the year 262143.
    let end = start.checked_add_signed(Duration::seconds(WINDOW_SECS));
    match end {
        Some(end) if end <= now => Err(Rejection::WindowEnded { end }),
        Some(_) if start <= horizon => Ok(start),
        _ => Err(Rejection::BeyondHorizon { horizon_days }),
    }
}

impl ReserveRequest {
    /// The e-mail, if given and plausible (it is only used to limit and contact).
    pub fn email(&self) -> Result<Option<String>, Rejection> {
        match &self.email {
            None => Ok(None),
            Some(e)
                if e.len() <= crate::limits::EMAIL_LEN_MAX
                    && e.contains('@')
                    && !e.contains(char::is_whitespace)
                    && !super::has_unsafe_chars(e) =>
            {
                Ok(Some(e.clone()))
            }
            Some(_) => Err(Rejection::InvalidEmail),
        }
    }
}
