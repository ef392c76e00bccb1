//! When and how long to wait before retrying a Stripe request: the policy of the official
//! client (stripe-python `_http_client.py`: `_should_retry`, `_sleep_time_seconds`).
//!
//! Retrying is safe only because every POST carries an `Idempotency-Key` and the same
//! bytes on every attempt: Stripe then replays the first outcome instead of acting twice.

use std::time::Duration;

use reqwest::StatusCode;

/// Retries after the first attempt; stripe-python's `max_network_retries` default.
pub const MAX_RETRIES_DEFAULT: u32 = 2;

/// Wait before the first retry; stripe-python's `INITIAL_DELAY` (0.5 s).
pub const BASE_DELAY_DEFAULT: Duration = Duration::from_millis(500);

/// Longest wait between two attempts; stripe-python's `MAX_DELAY` (5 s).
pub const MAX_DELAY_DEFAULT: Duration = Duration::from_secs(5);

/// How often and how patiently the client retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Wait before the first retry; doubles on each later one.
    pub base_delay: Duration,
    /// Cap of any single wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: MAX_RETRIES_DEFAULT, base_delay: BASE_DELAY_DEFAULT, max_delay: MAX_DELAY_DEFAULT }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based), given a uniform `jitter` in [0, 1):
    /// `min(base * 2^(retry-1), max)`, scaled into its upper half by the jitter so that
    /// clients do not retry in lockstep, and never below `base`.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        let exponential = self.base_delay.saturating_mul(1u32 << doublings).min(self.max_delay);
        let jittered = exponential.mul_f64(0.5 * (1.0 + jitter.clamp(0.0, 1.0)));
        jittered.max(self.base_delay)
    }

    /// The wait before retry number `retry`, with fresh randomness.
    pub fn delay_with_jitter(&self, retry: u32) -> Duration {
        self.delay(retry, rand::random::<f64>())
    }
}

/// Whether an HTTP answer is worth another attempt. Stripe's `Stripe-Should-Retry`
/// header decides when present (it says `false` when a retry would only replay the
/// saved answer, `true` e.g. on a lock timeout); otherwise 409 (a concurrent request
/// with the same key) and 5xx are retried, and no other status is.
pub fn should_retry_status(status: StatusCode, should_retry_header: Option<&str>) -> bool {
    match should_retry_header {
        Some("true") => true,
        Some("false") => false,
        _ => status == StatusCode::CONFLICT || status.is_server_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_from_base_and_is_capped() {
        let policy = RetryPolicy::default();
        // jitter 1.0 (clamped) gives the full exponential value.
        assert_eq!(policy.delay(1, 1.0), Duration::from_millis(500));
        assert_eq!(policy.delay(2, 1.0), Duration::from_secs(1));
        assert_eq!(policy.delay(3, 1.0), Duration::from_secs(2));
        assert_eq!(policy.delay(5, 1.0), Duration::from_secs(5));
        assert_eq!(policy.delay(40, 1.0), Duration::from_secs(5));
    }

    #[test]
    fn jitter_halves_at_most_and_never_goes_below_base() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(3, 0.0), Duration::from_secs(1));
        assert_eq!(policy.delay(1, 0.0), Duration::from_millis(500));
        for retry in 1..6 {
            let d = policy.delay_with_jitter(retry);
            assert!(d >= policy.base_delay && d <= policy.max_delay, "{d:?}");
        }
    }

    #[test]
    fn header_overrides_status_rules() {
        assert!(should_retry_status(StatusCode::INTERNAL_SERVER_ERROR, None));
        assert!(should_retry_status(StatusCode::SERVICE_UNAVAILABLE, None));
        assert!(should_retry_status(StatusCode::CONFLICT, None));
        assert!(!should_retry_status(StatusCode::BAD_REQUEST, None));
        assert!(!should_retry_status(StatusCode::TOO_MANY_REQUESTS, None));
        assert!(!should_retry_status(StatusCode::INTERNAL_SERVER_ERROR, Some("false")));
        assert!(should_retry_status(StatusCode::TOO_MANY_REQUESTS, Some("true")));
        assert!(should_retry_status(StatusCode::BAD_GATEWAY, Some("maybe")));
    }
}
