//! Times a client sends, at the HTTP edge: every one goes through
//! [`crate::domain::within_reach`] before a handler does arithmetic with it, so a time
//! chrono can parse but not shift (the year 262,142) is a 422, never a panic.

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};

use super::ApiError;
use crate::domain::within_reach;

/// `t` if it lies within reach of `now`; else `422 invalid_range`.
pub fn checked(t: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    within_reach(t, now).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_range", e.to_string()))
}

/// [`checked`] for an optional query value.
pub fn checked_opt(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ApiError> {
    t.map(|t| checked(t, now)).transpose()
}

/// A time in a path segment: `400 invalid_path` unless RFC 3339, then [`checked`].
pub fn from_path(name: &str, raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let t: DateTime<Utc> = raw.parse().map_err(|e| ApiError::bad_path(format!("{name}: {e}")))?;
    checked(t, now)
}
