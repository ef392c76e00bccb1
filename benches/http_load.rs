//! HTTP load on loopback, in one run, with the same load generator for every phase:
//!
//! 1. `echo`: the ceiling, a bare actix-web server (same runtime settings as qskip:
//!    `HttpServer` with one worker per available core) whose `POST /echo` parses the
//!    JSON body and returns it;
//! 2. `spread`: qskip's `POST /v1/venues/{venue}/reservations`, each request aimed
//!    round-robin at one of 200 future windows;
//! 3. `hot`: the same endpoint with every connection on ONE window at a time. A window
//!    holds 25,000 slots (slots_per_hour = 100,000), so the generator moves all
//!    connections on to the next window after `HOT_REQUESTS_PER_WINDOW` requests and a
//!    window can never sell out; a 409 would be counted as an error, not a success.
//!
//! qskip runs in-process (`Application::build` inside its own actix System thread) with
//! a temp data dir and the default journal (group commit + fdatasync). The load
//! generator is a minimal HTTP/1.1 keep-alive client over tokio `TcpStream`s (one
//! request in flight per connection), on its own small tokio runtime whose threads are
//! named `bench-client`, so that its CPU use can be reported separately.
//!
//! Env: `QSKIP_BENCH_SECS` (measure, default 5), `QSKIP_BENCH_WARMUP_SECS` (default 1),
//! `QSKIP_BENCH_CONNECTIONS` (default 64), `QSKIP_BENCH_CLIENT_THREADS` (default 1),
//! `QSKIP_BENCH_PHASES` (comma list of echo,spread,hot; default all three).
//!
//! Run: `cargo bench --bench http_load`.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::rt::System;
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use qskip::app::Application;
use qskip::clock::SystemClock;
use qskip::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Requests sent to one hot window before every connection moves to the next one;
/// below its 25,000 slots, so the hot window never sells out.
const HOT_REQUESTS_PER_WINDOW: u64 = 20_000;
/// Windows the spread phase cycles through.
const SPREAD_WINDOWS: usize = 200;
/// Hot windows prepared (HOT_WINDOWS * HOT_REQUESTS_PER_WINDOW requests at most).
const HOT_WINDOWS: usize = 100;

fn env_secs(name: &str, default: f64) -> Duration {
    let secs = std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(default);
    Duration::from_secs_f64(secs.max(0.0))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

// ---------------------------------------------------------------------------------
// Servers

/// A server on its own thread, in its own actix System; stopped by stopping the System.
struct ServerThread {
    addr: SocketAddr,
    system: System,
    thread: JoinHandle<()>,
}

impl ServerThread {
    fn stop(self) {
        self.system.stop();
        let _ = self.thread.join();
    }
}

async fn echo(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(body.into_inner())
}

fn start_echo(workers: usize) -> ServerThread {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runner = System::new();
        let server = HttpServer::new(|| App::new().route("/echo", web::post().to(echo)))
            .workers(workers)
            .bind("127.0.0.1:0")
            .expect("bind echo server");
        let addr = server.addrs()[0];
        runner.block_on(async move {
            actix_web::rt::spawn(server.run());
            tx.send((addr, System::current())).expect("report echo address");
        });
        runner.run().expect("echo system runs");
    });
    let (addr, system) = rx.recv().expect("echo server started");
    ServerThread { addr, system, thread }
}

fn start_qskip(data_dir: &std::path::Path) -> ServerThread {
    let config = format!(
        r#"
bind = "127.0.0.1:0"
data_dir = "{}"

# 64 connections from one address: the per-client limits would stop the load.
[limits]
enabled = false

[[venues]]
id = "spread"
name = "Spread"
timezone = "UTC"
price_minor = 500
currency = "eur"
slots_per_hour = 100000

[[venues]]
id = "hot"
name = "Hot"
timezone = "UTC"
price_minor = 500
currency = "eur"
slots_per_hour = 100000
"#,
        data_dir.display()
    );
    let config = Config::from_toml(&config, "bench.toml".as_ref()).expect("valid bench config");
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runner = System::new();
        runner.block_on(async move {
            let app = Application::build(config, Arc::new(SystemClock)).await.expect("qskip starts");
            tx.send((app.addr(), System::current())).expect("report qskip address");
            actix_web::rt::spawn(async move {
                if let Err(e) = app.run_until_stopped().await {
                    eprintln!("qskip stopped: {e:#}");
                }
            });
        });
        runner.run().expect("qskip system runs");
    });
    let (addr, system) = rx.recv().expect("qskip started");
    ServerThread { addr, system, thread }
}

// ---------------------------------------------------------------------------------
// A minimal HTTP/1.1 keep-alive client

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

impl Conn {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: vec![0; 16 * 1024], filled: 0 })
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        match self.stream.read(&mut self.buf[self.filled..]).await? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.filled += n;
                Ok(())
            }
        }
    }

    /// Sends one request and reads one response (status line, headers, body with a
    /// Content-Length); returns the status code.
    async fn roundtrip(&mut self, request: &[u8]) -> io::Result<u16> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(at) = find(&self.buf[..self.filled], b"\r\n\r\n") {
                break at;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("non-UTF-8 response head"))?;
        let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad status line"))?;
        let mut length = None;
        for line in head.split("\r\n").skip(1) {
            let (name, value) = line.split_once(':').ok_or_else(|| bad("bad header line"))?;
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().map_err(|_| bad("bad content-length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(bad("chunked responses are not supported by the bench client"));
            }
        }
        let total = head_end + 4 + length.unwrap_or(0);
        while self.filled < total {
            self.fill().await?;
        }
        self.buf.copy_within(total..self.filled, 0);
        self.filled -= total;
        Ok(status)
    }
}

// ---------------------------------------------------------------------------------
// CPU accounting from /proc (Linux only; zeros elsewhere)

/// Clock ticks per second of /proc's utime/stime (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Clone, Default)]
struct CpuSample {
    /// Ticks per thread name (digits dropped, so numbered workers add up).
    by_thread: BTreeMap<String, u64>,
    /// Ticks used by this process's `bench-client` threads.
    client: u64,
    /// Ticks used by every other thread of this process (the servers).
    server: u64,
    /// Busy ticks of the whole machine (all processes), and all ticks.
    machine_busy: u64,
    machine_total: u64,
}

fn cpu_sample() -> CpuSample {
    let mut sample = CpuSample::default();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
            let comm = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
            let group: String = comm.chars().filter(|c| !c.is_ascii_digit()).collect();
            *sample.by_thread.entry(group).or_default() += ticks;
            match comm.starts_with("bench-client") {
                true => sample.client += ticks,
                false => sample.server += ticks,
            }
        }
    }
    if let Some(line) = std::fs::read_to_string("/proc/stat").ok().and_then(|s| s.lines().next().map(str::to_owned)) {
        let values: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
        let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
        sample.machine_total = values.iter().take(8).sum();
        sample.machine_busy = sample.machine_total.saturating_sub(idle);
    }
    sample
}

// ---------------------------------------------------------------------------------
// Phases

struct Phase {
    name: &'static str,
    addr: SocketAddr,
    /// The request for the n-th request sent in this phase.
    pick: Box<dyn Fn(u64) -> Arc<[u8]> + Send + Sync>,
    expected_status: u16,
}

struct PhaseResult {
    name: &'static str,
    requests_per_sec: f64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    p50_micros: u64,
    p99_micros: u64,
    /// CPU used during the measurement, in cores (1.0 = one core busy).
    client_cores: f64,
    server_cores: f64,
    other_cores: f64,
    /// CPU per thread name during the measurement, in cores, busiest first.
    threads: Vec<(String, f64)>,
}

#[derive(Default)]
struct ConnStats {
    ok: u64,
    errors: BTreeMap<String, u64>,
    latencies: Vec<u32>,
}

fn percentile(sorted: &[u32], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    u64::from(sorted[rank.clamp(1, sorted.len()) - 1])
}

async fn connection(
    phase: Arc<Phase>,
    sent: Arc<AtomicU64>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> ConnStats {
    let mut stats = ConnStats { latencies: Vec::with_capacity(1 << 15), ..ConnStats::default() };
    let mut conn = None;
    while !stop.load(Ordering::Relaxed) {
        let c = match &mut conn {
            Some(c) => c,
            None => match Conn::connect(phase.addr).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    if measuring.load(Ordering::Relaxed) {
                        *stats.errors.entry(format!("connect: {}", e.kind())).or_default() += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let request = (phase.pick)(sent.fetch_add(1, Ordering::Relaxed));
        let started = Instant::now();
        let outcome = c.roundtrip(&request).await;
        let micros = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        // Counted iff it completed inside the measuring interval.
        let counted = measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed);
        match outcome {
            Ok(status) if status == phase.expected_status => {
                if counted {
                    stats.ok += 1;
                    stats.latencies.push(micros);
                }
            }
            Ok(status) => {
                if counted {
                    *stats.errors.entry(format!("HTTP {status}")).or_default() += 1;
                }
            }
            Err(e) => {
                if counted {
                    *stats.errors.entry(format!("io: {}", e.kind())).or_default() += 1;
                }
                conn = None;
            }
        }
    }
    stats
}

fn run_phase(
    rt: &tokio::runtime::Runtime,
    phase: Phase,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> PhaseResult {
    let phase = Arc::new(phase);
    let sent = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..connections)
        .map(|_| rt.spawn(connection(phase.clone(), sent.clone(), measuring.clone(), stop.clone())))
        .collect();
    std::thread::sleep(warmup);
    let cpu0 = cpu_sample();
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(measure);
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let cpu1 = cpu_sample();

    let mut total = ConnStats::default();
    for task in tasks {
        let stats = rt.block_on(task).expect("connection task");
        total.ok += stats.ok;
        total.latencies.extend(stats.latencies);
        for (kind, n) in stats.errors {
            *total.errors.entry(kind).or_default() += n;
        }
    }
    total.latencies.sort_unstable();
    let cores = |ticks: u64| ticks as f64 / TICKS_PER_SEC / elapsed;
    let ours = (cpu1.client + cpu1.server).saturating_sub(cpu0.client + cpu0.server);
    let machine_busy = cpu1.machine_busy.saturating_sub(cpu0.machine_busy);
    let mut threads: Vec<(String, f64)> = cpu1
        .by_thread
        .iter()
        .map(|(name, &t1)| (name.clone(), cores(t1.saturating_sub(cpu0.by_thread.get(name).copied().unwrap_or(0)))))
        .filter(|(_, c)| *c >= 0.01)
        .collect();
    threads.sort_by(|a, b| b.1.total_cmp(&a.1));
    PhaseResult {
        threads,
        name: phase.name,
        requests_per_sec: total.ok as f64 / elapsed,
        ok: total.ok,
        errors: total.errors,
        p50_micros: percentile(&total.latencies, 0.50),
        p99_micros: percentile(&total.latencies, 0.99),
        client_cores: cores(cpu1.client.saturating_sub(cpu0.client)),
        server_cores: cores(cpu1.server.saturating_sub(cpu0.server)),
        other_cores: cores(machine_busy.saturating_sub(ours)),
    }
}

fn post(addr: SocketAddr, path: &str, body: &str) -> Arc<[u8]> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .into()
}

fn reserve_body(window_start: DateTime<Utc>) -> String {
    format!(r#"{{"quantity":1,"window_start":"{}"}}"#, window_start.format("%Y-%m-%dT%H:%M:%SZ"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("http_load: bench");
        return;
    }
    let measure = env_secs("QSKIP_BENCH_SECS", 5.0);
    let warmup = env_secs("QSKIP_BENCH_WARMUP_SECS", 1.0);
    let connections = env_usize("QSKIP_BENCH_CONNECTIONS", 64).max(1);
    let client_threads = env_usize("QSKIP_BENCH_CLIENT_THREADS", 1).max(1);
    let phases_wanted = std::env::var("QSKIP_BENCH_PHASES").unwrap_or_else(|_| "echo,spread,hot".into());
    let wants = |name: &str| phases_wanted.split(',').any(|p| p.trim() == name);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let data_dir = tempfile::TempDir::new().expect("temp data dir");
    let echo_server = start_echo(cores);
    let qskip = start_qskip(data_dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("client runtime");

    // Windows: the spread ones start at the next quarter hour + 1 h, the hot ones a day
    // later; all well inside the 7-day sales horizon and in the future for the whole run.
    let quarter = TimeDelta::minutes(15);
    let first = Utc::now().duration_trunc(quarter).expect("truncate to a quarter hour") + TimeDelta::hours(1);
    let spread_bodies: Vec<String> = (0..SPREAD_WINDOWS).map(|i| reserve_body(first + quarter * i as i32)).collect();
    let hot_first = first + TimeDelta::days(1);
    let hot: Vec<Arc<[u8]>> = (0..HOT_WINDOWS)
        .map(|i| post(qskip.addr, "/v1/venues/hot/reservations", &reserve_body(hot_first + quarter * i as i32)))
        .collect();
    let spread: Vec<Arc<[u8]>> =
        spread_bodies.iter().map(|b| post(qskip.addr, "/v1/venues/spread/reservations", b)).collect();
    let echo_requests: Vec<Arc<[u8]>> = spread_bodies.iter().map(|b| post(echo_server.addr, "/echo", b)).collect();

    println!(
        "http_load: {connections} keep-alive connections, warm-up {:.1} s + measure {:.1} s per phase; \
         {cores} cores, {cores} server workers, {client_threads} client thread(s)",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    let mut results = Vec::new();
    if wants("echo") {
        let phase = Phase {
            name: "echo (actix JSON echo)",
            addr: echo_server.addr,
            pick: Box::new(move |n| echo_requests[n as usize % echo_requests.len()].clone()),
            expected_status: 200,
        };
        results.push(run_phase(&rt, phase, connections, warmup, measure));
    }
    if wants("spread") {
        let phase = Phase {
            name: "spread (200 windows)",
            addr: qskip.addr,
            pick: Box::new(move |n| spread[n as usize % spread.len()].clone()),
            expected_status: 201,
        };
        results.push(run_phase(&rt, phase, connections, warmup, measure));
    }
    if wants("hot") {
        let phase = Phase {
            name: "hot (1 window)",
            addr: qskip.addr,
            pick: Box::new(move |n| {
                let window = (n / HOT_REQUESTS_PER_WINDOW) as usize;
                assert!(window < hot.len(), "the hot phase ran out of prepared windows; shorten QSKIP_BENCH_SECS");
                hot[window].clone()
            }),
            expected_status: 201,
        };
        results.push(run_phase(&rt, phase, connections, warmup, measure));
    }

    println!();
    println!(
        "{:<24} {:>10} {:>9} {:>9} {:>8} {:>11} {:>11} {:>11} {:>10}",
        "phase", "req/s", "p50 ms", "p99 ms", "errors", "client CPU", "server CPU", "other CPU", "server us"
    );
    for r in &results {
        let errors: u64 = r.errors.values().sum();
        println!(
            "{:<24} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>10.2}c {:>10.2}c {:>10.2}c {:>10.0}",
            r.name,
            r.requests_per_sec,
            r.p50_micros as f64 / 1000.0,
            r.p99_micros as f64 / 1000.0,
            errors,
            r.client_cores,
            r.server_cores,
            r.other_cores,
            r.server_cores * 1e6 / r.requests_per_sec.max(1.0)
        );
        let threads: Vec<String> = r.threads.iter().map(|(name, c)| format!("{name} {c:.2}")).collect();
        println!("    threads (cores): {}", threads.join(", "));
        for (kind, n) in &r.errors {
            println!("    error {kind}: {n}");
        }
        if r.ok == 0 {
            println!("    no successful request: check the server");
        }
    }
    let rate = |prefix: &str| results.iter().find(|r| r.name.starts_with(prefix)).map(|r| r.requests_per_sec);
    println!("(CPU in cores over the measured interval: client = load generator threads, server = every other");
    println!(" thread of this process, other = the rest of the machine, i.e. noise from other processes;");
    println!(" server us = server CPU microseconds per successful request, which other load barely moves)");
    println!();
    if let (Some(spread), Some(echo)) = (rate("spread"), rate("echo")) {
        println!("spread / echo: {:.2}  (target >= 0.40)", spread / echo);
    }
    if let (Some(hot), Some(spread)) = (rate("hot"), rate("spread")) {
        println!("hot / spread:  {:.2}  (target >= 0.80)", hot / spread);
    }

    drop(rt);
    echo_server.stop();
    qskip.stop();
    drop(data_dir);
}
