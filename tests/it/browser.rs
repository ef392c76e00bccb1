//! Headless Chromium for the page tests, driven over WebDriver (chromedriver +
//! fantoccini). Nothing here needs node or network: Debian's `chromium` and
//! `chromium-driver` packages (`.ci/run` installs them). Paths can be overridden with
//! `QSKIP_CHROMIUM` and `QSKIP_CHROMEDRIVER`.
//!
//! If the browser is missing or does not start, the tests FAIL with a message saying
//! so; they never skip. Chromium may only resolve 127.0.0.1 (every other host maps to
//! nothing), and every wait has a deadline. Screenshots go to `target/screenshots/`
//! (or `QSKIP_SCREENSHOTS`), so a person can look at what the tests saw.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{Deadline, PATIENCE, eventually_blocking, poll_until};

/// How long any single wait in a browser test may take before it fails.
pub const WAIT: Duration = PATIENCE;

/// A page-test body must finish within this, or the test fails.
pub const TEST_DEADLINE: Duration = Duration::from_secs(120);

fn program(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn missing(what: &str, path: &std::path::Path, env: &str) -> ! {
    panic!(
        "browser tests need {what} at {} (set {env} to another path). On Debian: \
         `apt-get install -y chromium chromium-driver` (.ci/run does this). These tests fail rather than skip.",
        path.display()
    )
}

/// Phone-sized or desktop-sized window.
#[derive(Debug, Clone, Copy)]
pub enum Size {
    Phone,
    Desktop,
}

/// A chromedriver process; killed (with its browsers) on drop.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start() -> Self {
        let chromedriver = program("QSKIP_CHROMEDRIVER", "/usr/bin/chromedriver");
        if !chromedriver.exists() {
            missing("chromedriver", &chromedriver, "QSKIP_CHROMEDRIVER");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        eventually_blocking(&format!("chromedriver to listen on port {port}"), WAIT, || {
            std::net::TcpStream::connect(("127.0.0.1", port))
        });
        Self { child, port }
    }

    /// A new browser session with a fresh profile.
    pub async fn browser(&self, size: Size) -> Browser {
        let chromium = program("QSKIP_CHROMIUM", "/usr/bin/chromium");
        if !chromium.exists() {
            missing("Chromium", &chromium, "QSKIP_CHROMIUM");
        }
        let profile = tempfile::tempdir().expect("a temp profile dir");
        let window = match size {
            Size::Phone => "--window-size=390,900",
            Size::Desktop => "--window-size=1280,1000",
        };
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            window,
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object literal") };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| panic!("Chromium ({}) did not start under chromedriver: {e}", chromium.display()));
        Browser { client, _profile: profile }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole process group: chromedriver and the browsers it started.
        // (chromedriver leads its own group: it was started with `process_group(0)`.)
        let group = i32::try_from(self.child.id()).ok().and_then(rustix::process::Pid::from_raw);
        let killed = group.map(|pid| rustix::process::kill_process_group(pid, rustix::process::Signal::KILL));
        if !matches!(killed, Some(Ok(()))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser {
    pub client: Client,
    _profile: TempDir,
}

impl std::ops::Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// Polls `probe` until it returns `Some`, failing the test after [`WAIT`].
    pub async fn until<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Deadline::new(format!("browser: {what}"), WAIT);
        let found = poll_until(&deadline, || {
            let probed = probe(self.client.clone());
            async move { probed.await.ok_or(()) }
        });
        match found.await {
            Ok(value) => value,
            Err(()) => {
                self.screenshot(&format!("timeout-{}", what.replace(' ', "-"))).await;
                deadline.fail(format_args!("url {:?}", self.current_url().await.ok()))
            }
        }
    }

    /// The text of the element matching `css`, if there is one.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        text_of(&self.client, css).await
    }

    /// Waits until the element matching `css` has text satisfying `accept`.
    pub async fn until_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        let accept = &accept;
        self.until(&format!("text of {css}"), |c| async move { text_of(&c, css).await.filter(|t| accept(t)) }).await
    }

    pub async fn click(&self, css: &str) {
        let element =
            self.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn path(&self) -> String {
        self.current_url().await.expect("a current URL").path().to_owned()
    }

    /// Saves a PNG of the viewport as `<screenshots>/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshots_dir();
        let png = match self.client.screenshot().await {
            Ok(png) => png,
            Err(e) => return eprintln!("screenshot {name}: {e}"),
        };
        std::fs::create_dir_all(&dir).expect("the screenshot dir can be created");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot can be written");
    }
}

pub async fn text_of(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("QSKIP_SCREENSHOTS")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"), PathBuf::from)
}

/// Runs a page test body within [`TEST_DEADLINE`].
pub async fn bounded<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(TEST_DEADLINE, body).await.expect("the browser test finished within its deadline");
}
