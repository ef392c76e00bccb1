//! The test harness, in the style of "Zero To Production in Rust": `spawn_app` runs the
//! real `Application` in-process on `127.0.0.1:0` with real sled in a temp dir and a
//! [`ManualClock`] the test moves forward; [`BinaryApp`] runs the real `qskip` binary for
//! restart and crash tests. Both only ever talk to 127.0.0.1.
//!
//! Not every helper is used by every module of this test binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use qskip::app::Application;
use qskip::clock::{Clock, ManualClock, SystemClock};
use qskip::config::Config;
use qskip::domain::window_start_of;
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;

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

/// A venue in the generated config file.
#[derive(Debug, Clone)]
pub struct VenueSpec {
    pub id: String,
    pub timezone: String,
    /// Window capacity is `slots_per_hour / 4`.
    pub slots_per_hour: u32,
    pub hold_ttl_secs: Option<u32>,
    pub price_minor: u64,
    /// Raw TOML appended to the venue table (e.g. `[[venues.overrides]]` tables).
    pub extra_toml: String,
}

impl VenueSpec {
    pub fn new(id: &str, slots_per_hour: u32) -> Self {
        Self {
            id: id.into(),
            timezone: "UTC".into(),
            slots_per_hour,
            hold_ttl_secs: None,
            price_minor: 500,
            extra_toml: String::new(),
        }
    }

    pub fn hold_ttl_secs(mut self, secs: u32) -> Self {
        self.hold_ttl_secs = Some(secs);
        self
    }

    pub fn timezone(mut self, tz: &str) -> Self {
        self.timezone = tz.into();
        self
    }

    pub fn extra_toml(mut self, toml: &str) -> Self {
        self.extra_toml = toml.into();
        self
    }

    pub fn capacity(&self) -> u32 {
        self.slots_per_hour / 4
    }
}

/// The TOML text of a config with these venues, limits off (tests hammer from one IP).
pub fn config_toml(data_dir: &Path, venues: &[VenueSpec]) -> String {
    config_toml_with_limits(data_dir, venues, "enabled = false\n")
}

/// The TOML text of a config with these venues and this `[limits]` table body.
pub fn config_toml_with_limits(data_dir: &Path, venues: &[VenueSpec], limits: &str) -> String {
    let mut text =
        format!("bind = \"127.0.0.1:0\"\ndata_dir = {:?}\n", data_dir.to_str().expect("temp paths are UTF-8"));
    text.push_str(&format!("\n[limits]\n{limits}"));
    for v in venues {
        text.push_str(&format!(
            "\n[[venues]]\nid = {id:?}\nname = \"Test venue {id}\"\ntimezone = {tz:?}\nprice_minor = {price}\n\
             currency = \"eur\"\nslots_per_hour = {slots}\n",
            id = v.id,
            tz = v.timezone,
            price = v.price_minor,
            slots = v.slots_per_hour,
        ));
        if let Some(ttl) = v.hold_ttl_secs {
            text.push_str(&format!("hold_ttl_secs = {ttl}\n"));
        }
        text.push_str(&v.extra_toml);
    }
    text
}

/// Options of [`spawn_app_with`].
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub venues: Vec<VenueSpec>,
    /// Use the wall clock instead of the manual one (timer tests).
    pub system_clock: bool,
    pub clock_start: DateTime<Utc>,
    /// Idle seconds before the actor of a finished window stops (passivation).
    pub actor_idle_secs: Option<u64>,
    /// Body of the `[limits]` table; `None` switches the limits off.
    pub limits: Option<String>,
    /// The admin API's bearer token; `None` leaves the admin API off.
    pub admin_token: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        let venues = vec![VenueSpec::new(VENUE, 40)];
        Self {
            venues,
            system_clock: false,
            clock_start: at(CLOCK_START),
            actor_idle_secs: None,
            limits: None,
            admin_token: None,
        }
    }
}

impl AppOptions {
    /// One venue `bar` in UTC with this window capacity.
    pub fn capacity(capacity: u32) -> Self {
        Self { venues: vec![VenueSpec::new(VENUE, capacity * 4)], ..Self::default() }
    }

    pub fn hold_ttl_secs(mut self, secs: u32) -> Self {
        for v in &mut self.venues {
            v.hold_ttl_secs = Some(secs);
        }
        self
    }

    pub fn venue(mut self, venue: VenueSpec) -> Self {
        self.venues.push(venue);
        self
    }

    pub fn system_clock(mut self) -> Self {
        self.system_clock = true;
        self
    }

    pub fn actor_idle_secs(mut self, secs: u64) -> Self {
        self.actor_idle_secs = Some(secs);
        self
    }

    pub fn admin_token(mut self, token: &str) -> Self {
        self.admin_token = Some(token.into());
        self
    }
}

/// `rustls` is built without a default provider: install ring once, or building any
/// reqwest client panics.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client that follows no redirects (so the 303 of the dev checkout is visible) and
/// gives up on a request after 30 s instead of hanging a test.
pub fn http_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(StdDuration::from_secs(30))
        .build()
        .expect("the HTTP client builds")
}

/// Window counts as `GET /v1/venues/{venue}/windows` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowCountsJson {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
    pub held: u32,
    pub confirmed: u32,
    pub available: u32,
    pub overcommitted: bool,
}

/// A reservation as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReservationJson {
    pub id: String,
    pub venue_id: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub quantity: u32,
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checkout_url: String,
    pub amount_minor: u64,
    pub currency: String,
}

/// Requests against one running qskip (in-process or the binary) by base URL.
#[derive(Clone)]
pub struct Api {
    pub address: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(address: String) -> Self {
        Self { address, client: http_client() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `POST /v1/venues/{venue}/reservations` with a JSON body and an optional key.
    pub async fn reserve_at(&self, venue: &str, body: &Value, key: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(&format!("/v1/venues/{venue}/reservations"))).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("POST reservations is answered")
    }

    /// Reserve `quantity` slots of the window starting at `start`.
    pub async fn reserve_in(&self, venue: &str, start: DateTime<Utc>, quantity: u32) -> Response {
        self.reserve_at(venue, &json!({ "quantity": quantity, "window_start": rfc3339(start) }), None).await
    }

    pub async fn get_reservation(&self, id: &str) -> Response {
        self.client.get(self.url(&format!("/v1/reservations/{id}"))).send().await.expect("GET reservation is answered")
    }

    /// The reservation, asserting 200.
    pub async fn reservation(&self, id: &str) -> ReservationJson {
        let response = self.get_reservation(id).await;
        assert_eq!(response.status(), StatusCode::OK, "GET /v1/reservations/{id}");
        response.json().await.expect("a reservation is JSON")
    }

    pub async fn cancel(&self, id: &str) -> Response {
        self.client.post(self.url(&format!("/v1/reservations/{id}/cancel"))).send().await.expect("cancel is answered")
    }

    /// `GET /v1/venues/{venue}/windows` with optional `from`/`to`.
    pub async fn windows(&self, venue: &str, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Response {
        let mut query = Vec::new();
        if let Some(from) = from {
            query.push(format!("from={}", rfc3339(from)));
        }
        if let Some(to) = to {
            query.push(format!("to={}", rfc3339(to)));
        }
        let mut url = self.url(&format!("/v1/venues/{venue}/windows"));
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        self.client.get(url).send().await.expect("GET windows is answered")
    }

    /// Counts of the one window starting at `start`, asserting 200.
    pub async fn window_counts(&self, venue: &str, start: DateTime<Utc>) -> WindowCountsJson {
        let response = self.windows(venue, Some(start), Some(start + window_len())).await;
        assert_eq!(response.status(), StatusCode::OK, "GET windows");
        let mut windows: Vec<WindowCountsJson> = response.json().await.expect("windows are JSON");
        assert_eq!(windows.len(), 1, "one window asked, one answered");
        let window = windows.pop().expect("one window");
        assert_eq!(window.start, start);
        assert_eq!(window.end, start + window_len());
        assert_eq!(window.available, window.capacity.saturating_sub(window.held + window.confirmed), "{window:?}");
        window
    }

    /// Counts of consecutive windows `[from, to)`, asserting 200.
    pub async fn window_range(&self, venue: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<WindowCountsJson> {
        let response = self.windows(venue, Some(from), Some(to)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET windows");
        response.json().await.expect("windows are JSON")
    }

    pub async fn dev_page(&self, id: &str) -> Response {
        self.client.get(self.url(&format!("/dev/checkout/{id}"))).send().await.expect("dev page is answered")
    }

    /// `POST /dev/checkout/{id}/pay`; the answer is a 303 (redirects are not followed).
    pub async fn dev_pay(&self, id: &str) -> Response {
        self.client.post(self.url(&format!("/dev/checkout/{id}/pay"))).send().await.expect("dev pay is answered")
    }

    pub async fn dev_cancel(&self, id: &str) -> Response {
        self.client.post(self.url(&format!("/dev/checkout/{id}/cancel"))).send().await.expect("dev cancel is answered")
    }
}

/// The `result=` of a dev checkout redirect, asserting a 303 to the status page.
pub fn dev_result(response: &Response, id: &str) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "dev checkout answers 303");
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a 303 has a Location")
        .to_str()
        .expect("Location is ASCII");
    let prefix = format!("/reservations/{id}?result=");
    location.strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected Location {location:?}")).to_owned()
}

/// Asserts a JSON error `{error: {code, message}}` with this status and code; returns
/// the `error` object.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    let what = format!("{} {}", response.url().path(), response.status());
    assert_eq!(response.status(), status, "{what}: status");
    let error = error_body(response).await;
    assert_eq!(error["code"], code, "{what}: error code in {error}");
    error
}

/// The `error` object of a JSON error response, checking its shape.
pub async fn error_body(response: Response) -> Value {
    let what = format!("{} {}", response.url().path(), response.status());
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/json"), "{what}: error content type {content_type:?}");
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{what}: error body is not JSON: {e}"));
    let error = body["error"].clone();
    assert!(error["code"].as_str().is_some_and(|c| !c.is_empty()), "{what}: no error.code in {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no error.message in {body}");
    error
}

/// The reservation in a 201 answer.
pub async fn created(response: Response) -> ReservationJson {
    let status = response.status();
    let text = response.text().await.expect("body is readable");
    assert_eq!(status, StatusCode::CREATED, "expected 201, got {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("201 body is a reservation ({e}): {text}"))
}

/// An in-process qskip on a random port.
pub struct TestApp {
    pub api: Api,
    pub address: String,
    pub port: u16,
    /// The clock the app reads (unless it was started with the system clock).
    pub clock: Arc<ManualClock>,
    pub system_clock: bool,
    pub venues: Vec<VenueSpec>,
    pub data_dir: TempDir,
    /// The service's facade, for checks the API does not expose (live actors).
    pub booking: Arc<qskip::actors::Booking>,
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
    let limits = options.limits.as_deref().unwrap_or("enabled = false\n");
    let mut text = config_toml_with_limits(data_dir.path(), &options.venues, limits);
    if let Some(secs) = options.actor_idle_secs {
        // Top-level keys must come before the first [[venues]] table.
        text = format!("actor_idle_secs = {secs}\n{text}");
    }
    if let Some(token) = &options.admin_token {
        text = format!("admin_token = {token:?}\n{text}");
    }
    let config = Config::from_toml(&text, Path::new("test.toml")).expect("the test config is valid");
    let clock = Arc::new(ManualClock::new(options.clock_start));
    let app_clock: Arc<dyn Clock> = if options.system_clock { Arc::new(SystemClock) } else { clock.clone() };
    let app = Application::build(config, app_clock).await.expect("the application builds");
    let port = app.addr().port();
    let booking = app.booking().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let address = format!("http://127.0.0.1:{port}");
    TestApp {
        api: Api::new(address.clone()),
        address,
        port,
        clock,
        system_clock: options.system_clock,
        venues: options.venues,
        data_dir,
        booking,
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

// ---------------------------------------------------------------------------------
// The real binary.

/// How long the binary may take to print its listening line.
const STARTUP_TIMEOUT: StdDuration = StdDuration::from_secs(20);

/// A data dir and config file for the binary, kept across restarts.
pub struct BinaryHome {
    pub dir: TempDir,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub venues: Vec<VenueSpec>,
}

impl BinaryHome {
    pub fn new(venues: Vec<VenueSpec>) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let data_dir = dir.path().join("data");
        let config = dir.path().join("qskip.toml");
        std::fs::write(&config, config_toml(&data_dir, &venues)).expect("the config file is written");
        Self { dir, config, data_dir, venues }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qskip"));
        command
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env_remove("QSKIP_BIND")
            .env_remove("QSKIP_DATA_DIR")
            .env_remove("QSKIP_CONFIG")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Starts the binary and waits for its listening line.
    pub fn start(&self) -> BinaryApp {
        self.try_start().unwrap_or_else(|failure| panic!("qskip did not start: {failure}"))
    }

    /// Starts the binary; on failure returns why, with its stderr.
    pub fn try_start(&self) -> Result<BinaryApp, String> {
        self.try_start_command(self.command())
    }

    /// Starts the binary with a soft file-descriptor limit of `soft` (the hard limit
    /// unchanged), as a shell with `ulimit -Sn` would.
    pub fn start_with_soft_nofile(&self, soft: u64) -> BinaryApp {
        use std::os::unix::process::CommandExt as _;
        let mut command = self.command();
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
                let limit = rustix::process::Rlimit { current: Some(soft), maximum: hard };
                rustix::process::setrlimit(rustix::process::Resource::Nofile, limit).map_err(std::io::Error::from)
            });
        }
        self.try_start_command(command).unwrap_or_else(|failure| panic!("qskip did not start: {failure}"))
    }

    fn try_start_command(&self, mut command: Command) -> Result<BinaryApp, String> {
        let mut child = command.spawn().map_err(|e| format!("cannot run qskip: {e}"))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_done = drain(child.stderr.take().expect("stderr is piped"), stderr.clone());
        let (lines_tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let address = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("qskip listening on ") {
                        break addr.trim().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("no listening line within {STARTUP_TIMEOUT:?}; stderr: {}", text(&stderr)));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait for qskip");
                    let _ = stderr_done.join();
                    return Err(format!("qskip exited with {status}; stderr: {}", text(&stderr)));
                }
            }
        };
        assert!(address.starts_with("http://127.0.0.1:"), "qskip listens on loopback only, got {address}");
        Ok(BinaryApp { child: Some(child), api: Api::new(address), stderr, stderr_done: Some(stderr_done) })
    }

    /// Runs the binary expecting it to exit on its own within `timeout`; returns its
    /// exit status and stderr.
    pub fn run_to_exit(&self, timeout: StdDuration) -> (ExitStatus, String) {
        let mut child = self.command().spawn().expect("qskip runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_done = drain(child.stderr.take().expect("stderr is piped"), stderr.clone());
        let stdout = Arc::new(Mutex::new(String::new()));
        let stdout_done = drain(child.stdout.take().expect("stdout is piped"), stdout.clone());
        let status = wait_timeout(&mut child, timeout).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qskip kept running for {timeout:?}; stdout: {}; stderr: {}", text(&stdout), text(&stderr))
        });
        let _ = stderr_done.join();
        let _ = stdout_done.join();
        let stderr = text(&stderr);
        (status, stderr)
    }
}

fn drain(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().expect("no panics under this lock").push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

fn text(buffer: &Arc<Mutex<String>>) -> String {
    buffer.lock().expect("no panics under this lock").clone()
}

fn wait_timeout(child: &mut Child, timeout: StdDuration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait on qskip") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(StdDuration::from_millis(10));
    }
}

/// A running `qskip serve`; killed (SIGKILL) on drop if still running.
pub struct BinaryApp {
    child: Option<Child>,
    pub api: Api,
    stderr: Arc<Mutex<String>>,
    stderr_done: Option<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for BinaryApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl BinaryApp {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the process was not stopped yet").id()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        text(&self.stderr)
    }

    /// SIGKILL (std's `Child::kill` on Unix) and reap it.
    pub fn kill_9(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the process was not stopped yet");
        child.kill().expect("SIGKILL qskip");
        child.wait().expect("reap qskip")
    }

    /// SIGTERM (graceful stop) and wait up to 20 s for it to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the process was not stopped yet");
        let sent = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_timeout(&mut child, StdDuration::from_secs(20)).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qskip did not stop within 20 s of SIGTERM; stderr: {}", text(&self.stderr))
        });
        if let Some(done) = self.stderr_done.take() {
            let _ = done.join();
        }
        status
    }
}

impl Drop for BinaryApp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: StdDuration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        actix_web::rt::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Start of the wall-clock window `n` windows after the current one (for the binary,
/// which runs on the system clock).
pub fn wall_window(n: i64) -> DateTime<Utc> {
    window_start_of(Utc::now()) + window_len() * i32::try_from(n).expect("small window offsets")
}
