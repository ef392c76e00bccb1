//! The real `qskip` binary, for restart and crash tests: a home (data dir + config
//! file) kept across runs, and a running process that is SIGKILLed on drop.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use super::{Api, PATIENCE, TestConfig, VenueSpec, eventually_blocking};

/// A data dir and config file for the binary, kept across restarts.
pub struct BinaryHome {
    pub dir: TempDir,
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    /// What `config_file` holds.
    pub config: TestConfig,
}

impl BinaryHome {
    /// A home for a service selling these venues, with the tests' usual config.
    pub fn new(venues: Vec<VenueSpec>) -> Self {
        Self::with_config(TestConfig::new(venues))
    }

    /// A home for a service run with `config` (its `data_dir` is replaced by the home's).
    pub fn with_config(config: TestConfig) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let data_dir = dir.path().join("data");
        let config_file = dir.path().join("qskip.toml");
        let config = config.in_dir(&data_dir);
        std::fs::write(&config_file, config.to_toml()).expect("the config file is written");
        Self { dir, config_file, data_dir, config }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qskip"));
        command
            .arg("serve")
            .arg("--config")
            .arg(&self.config_file)
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
        // Not a poll: the listening line arrives on a channel; the deadline bounds it.
        let deadline = std::time::Instant::now() + PATIENCE;
        let address = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("qskip listening on ") {
                        break addr.trim().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("no listening line within {PATIENCE:?}; stderr: {}", text(&stderr)));
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

    /// Runs the binary expecting it to exit on its own; returns its exit status and
    /// stderr.
    pub fn run_to_exit(&self) -> (ExitStatus, String) {
        let mut child = KillOnDrop(self.command().spawn().expect("qskip runs"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_done = drain(child.0.stderr.take().expect("stderr is piped"), stderr.clone());
        let stdout = Arc::new(Mutex::new(String::new()));
        let stdout_done = drain(child.0.stdout.take().expect("stdout is piped"), stdout.clone());
        let output = Output { stdout: Some(stdout.clone()), stderr: stderr.clone() };
        let status = wait_for_exit(&mut child.0, "qskip to exit on its own", &output);
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

/// What a process wrote so far; printed only if a wait for it fails.
struct Output {
    stdout: Option<Arc<Mutex<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "still running")?;
        if let Some(stdout) = &self.stdout {
            write!(f, "; stdout: {}", text(stdout))?;
        }
        write!(f, "; stderr: {}", text(&self.stderr))
    }
}

/// Waits for `child` to exit. On timeout the test fails; whoever owns the child kills
/// it as the panic unwinds.
fn wait_for_exit(child: &mut Child, what: &str, output: &Output) -> ExitStatus {
    eventually_blocking(what, PATIENCE, || child.try_wait().expect("try_wait on qskip").ok_or(output))
}

/// A child process that is killed and reaped if it is dropped before it exits.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
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

    /// SIGTERM (graceful stop) and wait for it to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("the process was not stopped yet");
        let sent = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let output = Output { stdout: None, stderr: self.stderr.clone() };
        // On a timeout the child stays in `self`, whose drop kills it.
        let status = wait_for_exit(child, "qskip to stop after SIGTERM", &output);
        self.child = None;
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
