//! The one check every time a client sends (query, body or path) passes before any
//! arithmetic is done on it.
//!
//! chrono parses RFC 3339 times up to the year 262,143, and adding even a second to
//! such a time panics ("`DateTime + TimeDelta` overflowed"). Nothing qskip sells lies
//! further from now than the longest sales horizon, so a time outside
//! `now ± SALES_HORIZON_DAYS_MAX` days is refused up front (422), and every time that
//! passes has years of headroom for window arithmetic.

use chrono::{DateTime, Duration, Utc};

use crate::limits::SALES_HORIZON_DAYS_MAX;

/// Which side of the reachable span a refused time lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutOfReach {
    #[error("times must lie within {SALES_HORIZON_DAYS_MAX} days of now; this one is further in the past")]
    Past,
    #[error("times must lie within {SALES_HORIZON_DAYS_MAX} days of now; this one is further in the future")]
    Future,
}

/// `t` if it lies within `SALES_HORIZON_DAYS_MAX` days of `now` (either way).
/// Only `now` (the service's clock, never a client's value) is shifted, and checked.
pub fn within_reach(t: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, OutOfReach> {
    let reach = Duration::days(i64::from(SALES_HORIZON_DAYS_MAX));
    let earliest = now.checked_sub_signed(reach).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let latest = now.checked_add_signed(reach).unwrap_or(DateTime::<Utc>::MAX_UTC);
    match t {
        t if t < earliest => Err(OutOfReach::Past),
        t if t > latest => Err(OutOfReach::Future),
        t => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_far_from_now_are_refused_without_overflow() {
        let now: DateTime<Utc> = "2026-11-28T12:05:00Z".parse().expect("valid");
        assert_eq!(within_reach(now, now), Ok(now));
        assert_eq!(within_reach(DateTime::<Utc>::MAX_UTC, now), Err(OutOfReach::Future));
        assert_eq!(within_reach(DateTime::<Utc>::MIN_UTC, now), Err(OutOfReach::Past));
        let far: DateTime<Utc> = "+262142-12-31T23:59:59.999999999Z".parse().expect("chrono parses it");
        assert_eq!(within_reach(far, now), Err(OutOfReach::Future));
        let edge = now + Duration::days(i64::from(SALES_HORIZON_DAYS_MAX));
        assert_eq!(within_reach(edge, now), Ok(edge));
        assert_eq!(within_reach(edge + Duration::nanoseconds(1), now), Err(OutOfReach::Future));
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        assert_eq!(within_reach(max, max), Ok(max), "a clock at the end of time does not panic");
        assert_eq!(within_reach(min, min), Ok(min), "nor one at its beginning");
    }
}
