//! The per-IP rate limit on creating reservations (governor's GCRA), and how the
//! client's IP is found: the peer address, or a trusted proxy's header when configured.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;
use crate::limits::RATE_LIMIT_KEYS_MAX;

pub struct ReserveRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl ReserveRateLimit {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).expect("config checks that the rate is at least 1");
        Self { limiter: RateLimiter::keyed(Quota::per_minute(per_minute)), clock: DefaultClock::default() }
    }

    /// `Ok` while `ip` is within its rate; else 429 with the wait in `Retry-After`.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        if self.limiter.len() > RATE_LIMIT_KEYS_MAX {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait_secs = not_until.wait_time_from(self.clock.now()).as_secs_f64().ceil().max(1.0) as u32;
            let message = format!("too many reservation attempts from this address; retry in {wait_secs} s");
            let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
            error.retry_after_secs = Some(wait_secs);
            error
        })
    }
}

/// The client's IP: the rightmost address in the trusted `header` if one is configured
/// (a trusted proxy appends what it saw), else the TCP peer. A request without the
/// header, or with a value that is not an address, falls back to the peer: the limits
/// keyed on the IP must never switch off because a header is missing.
pub fn client_ip(req: &HttpRequest, header: Option<&str>) -> Option<IpAddr> {
    let from_header = || {
        let value = req.headers().get(header?)?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse().ok()
    };
    from_header().or_else(|| req.peer_addr().map(|addr| addr.ip()))
}
