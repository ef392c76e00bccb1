//! The test harness, in the style of "Zero To Production in Rust": `spawn_app` runs the
//! real `Application` in-process on `127.0.0.1:0` with real sled in a temp dir and a
//! [`ManualClock`] the test moves forward; [`BinaryApp`] runs the real `qskip` binary for
//! restart and crash tests. Both only ever talk to 127.0.0.1.
//!
//! Submodules: `config` (the config as typed structs), `api` (HTTP client and answers),
//! `binary` (the real binary), `etcd` (a throwaway etcd cluster), `wait` (the one polling
//! helper); all re-exported here.
//!
//! Not every helper is used by every module of this test binary.
#![allow(dead_code)]

mod api;
mod binary;
mod config;
#[cfg(feature = "cluster")]
mod etcd;
mod wait;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use qskip::app::Application;
use qskip::clock::{Clock, ManualClock, SystemClock};
use qskip::domain::window_start_of;
use tempfile::TempDir;

pub use api::*;
pub use binary::*;
pub use config::*;
#[cfg(feature = "cluster")]
pub use etcd::*;
pub use wait::*;

/// Where the manual clock starts: Saturday 2026-11-28, five minutes into the 12:00 UTC
/// window, so "the current window" is unambiguous and later windows are well ahead.
pub const CLOCK_START: &str = "2026-11-28T12:05:00Z";

/// The venue every test app serves unless told otherwise.
pub const VENUE: &str = "bar";

/// Width of a sales window.
pub fn window_len() -> Duration {
    Duration::minutes(15)
}

/// RFC 3339 with whole seconds and `Z`: safe in a query string without escaping.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamps are valid RFC 3339")
}

/// Options of [`spawn_app_with`]: the config, and the clock the app reads.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub config: TestConfig,
    /// Use the wall clock instead of the manual one (timer tests).
    pub system_clock: bool,
    pub clock_start: DateTime<Utc>,
}

impl Default for AppOptions {
    /// One venue `bar` in UTC with capacity 10, on the manual clock.
    fn default() -> Self {
        Self::with_venues(vec![VenueSpec::new(VENUE, 40)])
    }
}

impl AppOptions {
    /// Exactly these venues.
    pub fn with_venues(venues: Vec<VenueSpec>) -> Self {
        Self { config: TestConfig::new(venues), system_clock: false, clock_start: at(CLOCK_START) }
    }

    /// One venue `bar` in UTC with this window capacity.
    pub fn capacity(capacity: u32) -> Self {
        Self::with_venues(vec![VenueSpec::new(VENUE, capacity * 4)])
    }

    pub fn hold_ttl_secs(mut self, secs: u32) -> Self {
        for v in &mut self.config.venues {
            v.hold_ttl_secs = Some(secs);
        }
        self
    }

    pub fn venue(mut self, venue: VenueSpec) -> Self {
        self.config.venues.push(venue);
        self
    }

    pub fn system_clock(mut self) -> Self {
        self.system_clock = true;
        self
    }

    pub fn waitlist_offer_secs(mut self, secs: u32) -> Self {
        self.config.waitlist_offer_secs = Some(secs);
        self
    }

    pub fn actor_idle_secs(mut self, secs: u64) -> Self {
        self.config.actor_idle_secs = Some(secs);
        self
    }

    /// The admin API's bearer token (without one the admin API is off).
    pub fn admin_token(mut self, token: &str) -> Self {
        self.config.admin_token = Some(token.into());
        self
    }

    /// The `[limits]` table (the default switches the limits off).
    pub fn limits(mut self, limits: LimitsConfig) -> Self {
        self.config.limits = limits;
        self
    }

    /// The `[payments]` table (the default is dev payments without Stripe).
    pub fn payments(mut self, payments: PaymentsConfig) -> Self {
        self.config.payments = Some(payments);
        self
    }
}

/// An in-process qskip on a random port.
pub struct TestApp {
    pub api: Api,
    pub address: String,
    pub port: u16,
    /// The clock the app reads (unless it was started with the system clock).
    pub clock: Arc<ManualClock>,
    pub system_clock: bool,
    /// The config it runs with (its `data_dir` is [`TestApp::data_dir`]).
    pub config: TestConfig,
    pub data_dir: TempDir,
    /// The services, for checks the API does not expose (live actors).
    pub services: qskip::service::Services,
}

impl TestApp {
    /// What the app thinks the time is.
    pub fn now(&self) -> DateTime<Utc> {
        if self.system_clock { SystemClock.now() } else { self.clock.now() }
    }

    /// Start of the window `n` windows after the current one (0 = current).
    pub fn window(&self, n: i64) -> DateTime<Utc> {
        window_start_of(self.now()) + window_len() * i32::try_from(n).expect("small window offsets")
    }

    pub fn advance(&self, by: Duration) {
        assert!(!self.system_clock, "this app runs on the system clock");
        self.clock.advance(by);
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

/// Builds the application in-process and serves it on this test's actix system.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let test_config = options.config.in_dir(data_dir.path());
    let config = test_config.parse().expect("the test config is valid");
    let clock = Arc::new(ManualClock::new(options.clock_start));
    let app_clock: Arc<dyn Clock> = if options.system_clock { Arc::new(SystemClock) } else { clock.clone() };
    let app = Application::build(config, app_clock).await.expect("the application builds");
    let port = app.addr().port();
    let services = app.services().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let address = format!("http://127.0.0.1:{port}");
    TestApp {
        api: Api::new(address.clone()),
        address,
        port,
        clock,
        system_clock: options.system_clock,
        config: test_config,
        data_dir,
        services,
    }
}

/// Runs `futures` concurrently and returns their outputs in order.
pub async fn all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    futures_util::future::join_all(futures).await
}

/// A pseudo-random number from std's randomly seeded hasher (no rand dependency).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.finish()
}

/// Start of the wall-clock window `n` windows after the current one (for the binary,
/// which runs on the system clock).
pub fn wall_window(n: i64) -> DateTime<Utc> {
    window_start_of(Utc::now()) + window_len() * i32::try_from(n).expect("small window offsets")
}
