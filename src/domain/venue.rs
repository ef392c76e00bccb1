//! A venue: where queue skips are sold, at what price, in which time zone, on which
//! schedule, and how long its holds last.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{Schedule, VenueId};
use crate::limits::{HOLD_TTL_SECS_MAX, HOLD_TTL_SECS_MIN, PRICE_MINOR_MAX, VENUE_NAME_LEN_MAX};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    #[error("venue name must be 1..={VENUE_NAME_LEN_MAX} bytes, without control or bidirectional characters")]
    BadName,
    #[error("currency must be a 3-letter ISO 4217 code, got {0:?}")]
    BadCurrency(String),
    #[error("hold_ttl_secs must be {HOLD_TTL_SECS_MIN}..={HOLD_TTL_SECS_MAX}, got {0}")]
    BadHoldTtl(u32),
    #[error("price_minor must be at most {PRICE_MINOR_MAX}, got {0}")]
    BadPrice(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    pub id: VenueId,
    pub name: String,
    pub timezone: Tz,
    /// Price of one queue skip in the currency's minor unit (cents).
    pub price_minor: u64,
    /// Lowercase ISO 4217 code, as Stripe expects it.
    pub currency: String,
    pub hold_ttl_secs: u32,
    pub schedule: Schedule,
}

impl Venue {
    /// Checks the fields a schedule cannot check itself and normalises the currency.
    pub fn new(
        id: VenueId,
        name: String,
        timezone: Tz,
        price_minor: u64,
        currency: &str,
        hold_ttl_secs: u32,
        schedule: Schedule,
    ) -> Result<Self, VenueError> {
        if name.is_empty() || name.len() > VENUE_NAME_LEN_MAX || super::has_unsafe_chars(&name) {
            return Err(VenueError::BadName);
        }
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(VenueError::BadCurrency(currency.to_owned()));
        }
        if price_minor > PRICE_MINOR_MAX {
            return Err(VenueError::BadPrice(price_minor));
        }
        if !(HOLD_TTL_SECS_MIN..=HOLD_TTL_SECS_MAX).contains(&hold_ttl_secs) {
            return Err(VenueError::BadHoldTtl(hold_ttl_secs));
        }
        let currency = currency.to_ascii_lowercase();
        Ok(Self { id, name, timezone, price_minor, currency, hold_ttl_secs, schedule })
    }

    pub fn capacity_at(&self, window_start: DateTime<Utc>) -> u32 {
        self.schedule.capacity_at(self.timezone, window_start)
    }

    pub fn hold_ttl(&self) -> Duration {
        Duration::seconds(i64::from(self.hold_ttl_secs))
    }
}
