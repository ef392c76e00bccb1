//! The one way these tests wait: poll a condition until it holds, with a deadline.
//!
//! No test sleeps for a fixed time hoping that something has happened by then: on a
//! busy machine that guess is wrong (red) and on an idle one it is wasted time. A wait
//! ends as soon as its condition holds; the deadline only bounds a failure, so it is
//! generous ([`PATIENCE`]) and a slow machine makes a test slower, never red. A probe
//! answers `Ok(value)` when the condition holds and `Err(what it saw)` when not yet; on
//! timeout the failure names what was awaited and the last thing seen.
//!
//! [`eventually`] is for async tests, [`eventually_blocking`] for synchronous code
//! (child processes, chromedriver); both are the same loop over [`Deadline`].

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long any wait may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Pauses between probes: 10 ms, doubling up to 100 ms. A condition that holds soon is
/// seen soon; a long wait does not keep a busy machine busier (some probes are costly:
/// a replay of the whole log, a WebDriver round trip, a `/metrics` render).
const PAUSE_FIRST: Duration = Duration::from_millis(10);
const PAUSE_MAX: Duration = Duration::from_millis(100);

fn next_pause(pause: Duration) -> Duration {
    (pause * 2).min(PAUSE_MAX)
}

/// When a wait gives up, and what it was waiting for.
#[derive(Debug, Clone)]
pub struct Deadline {
    what: String,
    within: Duration,
    until: Instant,
}

impl Deadline {
    pub fn new(what: impl Into<String>, within: Duration) -> Self {
        Self { what: what.into(), within, until: Instant::now() + within }
    }

    pub fn passed(&self) -> bool {
        Instant::now() >= self.until
    }

    /// The failure: what was awaited, for how long, and the last thing seen.
    pub fn fail(&self, last: impl Debug) -> ! {
        panic!("waited {:?} for {}; last seen: {last:?}", self.within, self.what)
    }
}

/// Polls `probe` until it answers `Ok`, for at most [`PATIENCE`]; returns the value.
pub async fn eventually<T, E, F, Fut>(what: &str, probe: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    eventually_within(what, PATIENCE, probe).await
}

/// [`eventually`] with its own deadline, for a wait whose bound is part of what the
/// test claims.
pub async fn eventually_within<T, E, F, Fut>(what: &str, within: Duration, probe: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Deadline::new(what, within);
    poll_until(&deadline, probe).await.unwrap_or_else(|last| deadline.fail(last))
}

/// The loop itself: `Err(last seen)` once `deadline` has passed, for a caller that
/// must clean up before it fails (the browser takes a screenshot).
pub async fn poll_until<T, E, F, Fut>(deadline: &Deadline, mut probe: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut pause = PAUSE_FIRST;
    loop {
        match probe().await {
            Ok(value) => return Ok(value),
            Err(last) if deadline.passed() => return Err(last),
            Err(_) => tokio::time::sleep(pause).await,
        }
        pause = next_pause(pause);
    }
}

/// [`eventually_within`] for synchronous code: blocks the calling thread between probes.
pub fn eventually_blocking<T, E, F>(what: &str, within: Duration, mut probe: F) -> T
where
    E: Debug,
    F: FnMut() -> Result<T, E>,
{
    let deadline = Deadline::new(what, within);
    let mut pause = PAUSE_FIRST;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) if deadline.passed() => deadline.fail(last),
            Err(_) => std::thread::sleep(pause),
        }
        pause = next_pause(pause);
    }
}
