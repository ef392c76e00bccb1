//! Identifiers: venues, reservations and the (venue, window start) key of a window.
//!
//! A reservation id is its own capability (whoever knows it may pay or cancel), so it
//! is unguessable: the service makes v7 UUIDs, 74 random bits after a millisecond
//! timestamp (time-ordered ids keep the log's reservation index appending; older
//! reservations have v4 ids, 122 random bits). The domain never generates one; the caller
//! passes it in, which keeps `decide` deterministic.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::limits::{VENUE_ID_LEN_MAX, WINDOW_SECS};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("venue id must be 1..={VENUE_ID_LEN_MAX} characters of a-z, 0-9, '-' or '_'")]
    BadVenueId,
    #[error("reservation id must be a UUID")]
    BadReservationId,
}

/// A venue's stable id, as used in URLs: lowercase ASCII letters, digits, `-`, `_`.
/// Shared, not copied, by its clones: every window key, in the registry, the actors,
/// the read view and the snapshotter, names its venue (one allocation per copy made
/// each live window cost about 0.2 KiB).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VenueId(Arc<str>);

impl VenueId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        Self::check(raw)?;
        Ok(Self(Arc::from(raw)))
    }

    /// [`VenueId::parse`] of a string the caller owns already (the log decodes one
    /// venue id per record): one copy, into the shared text.
    pub fn parse_owned(raw: String) -> Result<Self, IdError> {
        Self::check(&raw)?;
        Ok(Self(Arc::from(raw)))
    }

    fn check(raw: &str) -> Result<(), IdError> {
        let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if raw.is_empty() || raw.len() > VENUE_ID_LEN_MAX || !raw.chars().all(valid_char) {
            return Err(IdError::BadVenueId);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VenueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reservation's id: a UUID chosen by the caller (see the module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservationId(Uuid);

impl ReservationId {
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl FromStr for ReservationId {
    type Err = IdError;
    fn from_str(raw: &str) -> Result<Self, IdError> {
        Uuid::try_parse(raw).map(Self).map_err(|_| IdError::BadReservationId)
    }
}

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// One sales window: a venue and the UTC start of a 15-minute interval.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowKey {
    pub venue_id: VenueId,
    pub start: DateTime<Utc>,
}

impl WindowKey {
    pub fn new(venue_id: VenueId, start: DateTime<Utc>) -> Self {
        assert!(super::is_window_aligned(start), "window start {start} is not 15-minute aligned");
        Self { venue_id, start }
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.start + Duration::seconds(WINDOW_SECS)
    }
}

impl fmt::Display for WindowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.venue_id, self.start.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_ids_are_url_safe() {
        assert!(VenueId::parse("demo-bar_1").is_ok());
        for bad in ["", "Demo", "a b", "a/b", &"x".repeat(VENUE_ID_LEN_MAX + 1)] {
            assert_eq!(VenueId::parse(bad), Err(IdError::BadVenueId), "{bad:?}");
            assert_eq!(VenueId::parse_owned(bad.to_owned()), Err(IdError::BadVenueId), "{bad:?}");
        }
        assert_eq!(VenueId::parse_owned("demo-bar_1".into()), VenueId::parse("demo-bar_1"));
    }
}
