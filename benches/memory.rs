//! Resident memory per live window actor holding one hold (issue 12, item 5: target
//! <= 2.5 KiB), and the size of one `/metrics` scrape, which must stay bounded however
//! many windows are live.
//!
//! qskip runs in this process (temp data dir, the default journal and sled cache) with
//! `QSKIP_BENCH_VENUES` venues open all day; the N windows are the next N/venues
//! windows of each venue from the next window start on, all within the sales horizon,
//! so no actor is finished (none passivates) during the run. Holds go through the
//! reservations service, the path `POST /v1/venues/{v}/reservations` takes after
//! parsing, 64 at a time. RSS is read from `/proc/self/statm` after each phase:
//!
//! 1. `empty`: every window's actor started by a counts query (it recovers: no events);
//! 2. `one hold`: one hold placed in each (opens the window: two log records);
//! 3. `2nd hold`: one more hold in each, the marginal cost of a reservation and its
//!    log record, to tell the actors' own cost from state and log.
//!
//! The result is (RSS after 2 - RSS at start) / N; the allocator is mimalloc, as in the
//! `qskip` binary. Between phases 2 and 3, `trimmed` is the RSS after glibc's
//! `malloc_trim`; it releases only what glibc's allocator holds, so under mimalloc it
//! should change little (kept to compare with a glibc build). Memory only: it is a
//! bench, not a test, and prints figures of this run and machine.
//!
//! Env: `QSKIP_BENCH_WINDOWS` (N, default 100,000), `QSKIP_BENCH_VENUES` (default 30),
//! `QSKIP_BENCH_SECOND_HOLD` (0 skips phase 3; default 1), `QSKIP_BENCH_SNAPSHOT_EVERY`
//! (the config's `snapshot_every_events`, to see the snapshotter's share; default the
//! service's).
//! Run: `cargo bench --bench memory`.

/// The same allocator as the `qskip` binary (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use actix_web::rt::System;
use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use qskip::actors::messages::GetCounts;
use qskip::app::Application;
use qskip::clock::SystemClock;
use qskip::config::Config;
use qskip::domain::{ReserveRequest, VenueId, WindowKey, window_start_of};
use qskip::service::{Client, Services};

const CONCURRENCY: usize = 64;
const PAGE_BYTES: u64 = 4096;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// Resident set size of this process, in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable on Linux");
    let resident: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("statm has resident");
    resident * PAGE_BYTES
}

fn config(data_dir: &std::path::Path, venues: usize, horizon_days: u32) -> Config {
    let mut toml = format!(
        "bind = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nsales_horizon_days = {horizon_days}\nhold_ttl_secs = 86400\n",
        data_dir.display()
    );
    if let Ok(every) = std::env::var("QSKIP_BENCH_SNAPSHOT_EVERY") {
        toml.push_str(&format!("snapshot_every_events = {every}\n"));
    }
    toml.push_str("[limits]\nenabled = false\n");
    for v in 0..venues {
        toml.push_str(&format!(
            "[[venues]]\nid = \"v{v}\"\nname = \"V{v}\"\ntimezone = \"UTC\"\nprice_minor = 500\ncurrency = \"eur\"\n\
             slots_per_hour = 1000\n"
        ));
    }
    Config::from_toml(&toml, "bench.toml".as_ref()).expect("valid bench config")
}

/// One `GET /metrics` over loopback: the body's size in bytes and its series count.
fn scrape(addr: SocketAddr) -> (usize, usize) {
    let mut stream = TcpStream::connect(addr).expect("connect to qskip");
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").expect("send scrape");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read scrape");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let series = body.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).count();
    (body.len(), series)
}

struct Phase {
    name: &'static str,
    rss: u64,
    secs: f64,
}

/// Sends `each(key)` for every key, `CONCURRENCY` at a time; panics on a failure.
async fn for_all<F, Fut>(keys: &[WindowKey], each: F)
where
    F: Fn(WindowKey) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut answers = futures_util::stream::iter(keys.iter().cloned().map(each)).buffer_unordered(CONCURRENCY);
    while let Some(answer) = answers.next().await {
        answer.expect("every window answers");
    }
}

async fn hold(services: &Services, key: WindowKey) -> Result<(), String> {
    let venue = services.venues.get(&key.venue_id).expect("bench venue exists");
    let request = ReserveRequest { quantity: Some(1), window_start: Some(key.start), email: None, waitlist: false };
    let reserved = services.reservations.reserve(&venue, request, None, &Client::default()).await;
    reserved.map(drop).map_err(|e| e.to_string())
}

async fn run(services: Services, addr: SocketAddr, keys: Vec<WindowKey>, second_hold: bool) -> Vec<Phase> {
    let mut phases = Vec::new();
    let mut mark =
        |name, started: Instant| phases.push(Phase { name, rss: rss_bytes(), secs: started.elapsed().as_secs_f64() });
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    mark("start", Instant::now());
    let started = Instant::now();
    for_all(&keys, |key| {
        let services = services.clone();
        async move { services.windows.ask(&key, GetCounts).await.map(drop).map_err(|e| e.to_string()) }
    })
    .await;
    mark("empty", started);
    let started = Instant::now();
    for_all(&keys, |key| {
        let services = services.clone();
        async move { hold(&services, key).await }
    })
    .await;
    mark("one hold", started);
    // Attribution only (the result is read above): how much of the RSS is heap the
    // allocator holds freed (e.g. after the snapshotter's transient copies).
    // SAFETY: malloc_trim only returns free memory of glibc's heap to the system.
    unsafe { libc::malloc_trim(0) };
    mark("trimmed", Instant::now());
    let (bytes, series) = actix_web::rt::task::spawn_blocking(move || scrape(addr)).await.expect("scrape ran");
    println!("/metrics at {} live windows: {bytes} bytes, {series} series", services.windows.live_count());
    if second_hold {
        let started = Instant::now();
        for_all(&keys, |key| {
            let services = services.clone();
            async move { hold(&services, key).await }
        })
        .await;
        mark("2nd hold", started);
    }
    println!("live window actors: {}", services.windows.live_count());
    phases
}

fn report(phases: &[Phase], windows: usize) {
    let base = phases[0].rss;
    println!("{:<10} {:>10} {:>12} {:>14} {:>10}", "phase", "RSS MiB", "delta MiB", "delta B/window", "secs");
    let mut previous = base;
    for phase in phases {
        let step = phase.rss as f64 - previous as f64;
        println!(
            "{:<10} {:>10.1} {:>12.1} {:>14.0} {:>10.1}",
            phase.name,
            phase.rss as f64 / 1048576.0,
            step / 1048576.0,
            step / windows as f64,
            phase.secs
        );
        previous = phase.rss;
    }
    let one_hold = phases.iter().find(|p| p.name == "one hold").expect("phase ran");
    let per_window = (one_hold.rss as f64 - base as f64) / windows as f64;
    println!(
        "RESULT: {windows} live windows with one hold each: {:.1} MiB over the started process, \
         {per_window:.0} bytes = {:.2} KiB per window (target <= 2.5 KiB)",
        (one_hold.rss - base) as f64 / 1048576.0,
        per_window / 1024.0
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("memory: bench");
        return;
    }
    let windows = env_usize("QSKIP_BENCH_WINDOWS", 100_000).max(1);
    let venues = env_usize("QSKIP_BENCH_VENUES", 30).clamp(1, windows);
    let second_hold = env_usize("QSKIP_BENCH_SECOND_HOLD", 1) != 0;
    let per_venue = windows.div_ceil(venues);
    let horizon_days = u32::try_from(per_venue / 96 + 2).expect("a horizon in days fits u32");
    let data_dir = tempfile::TempDir::new().expect("temp data dir");
    let config = config(data_dir.path(), venues, horizon_days);
    let first: DateTime<Utc> = window_start_of(Utc::now()) + Duration::minutes(15);
    let keys: Vec<WindowKey> = (0..windows)
        .map(|i| {
            let venue = VenueId::parse(&format!("v{}", i % venues)).expect("valid venue id");
            WindowKey::new(venue, first + Duration::minutes(15 * (i / venues) as i64))
        })
        .collect();
    println!(
        "memory: {windows} windows over {venues} venues ({per_venue} each, horizon {horizon_days} days), \
         {CONCURRENCY} requests at a time"
    );
    let runner = System::new();
    let phases = runner.block_on(async move {
        let app = Application::build(config, Arc::new(SystemClock)).await.expect("qskip starts");
        let (services, addr) = (app.services().clone(), app.addr());
        actix_web::rt::spawn(async move {
            if let Err(e) = app.run_until_stopped().await {
                eprintln!("qskip stopped: {e:#}");
            }
        });
        run(services.clone(), addr, keys, second_hold).await
    });
    report(&phases, windows);
    let log_bytes: u64 = walk_bytes(data_dir.path());
    println!("data dir after the run: {:.1} MiB on disk", log_bytes as f64 / 1048576.0);
}

fn walk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).into_iter().flatten().flatten().fold(0, |sum, entry| match entry.metadata() {
        Ok(m) if m.is_dir() => sum + walk_bytes(&entry.path()),
        Ok(m) => sum + m.len(),
        Err(_) => sum,
    })
}
