//! Backup and restore of a 1M-record log, and what a backup costs sales meanwhile.
//!
//! Generates a log of `QSKIP_BENCH_EVENTS` records (default 1 000 000, see
//! `common/generated_log.rs`), starts qskip on it in-process (its own actix System,
//! default journal: group commit + fdatasync), and drives `POST
//! /v1/venues/load/reservations` from `QSKIP_BENCH_CONNECTIONS` (default 32) concurrent
//! keep-alive clients spread over 200 roomy windows. Then:
//! 1. after `QSKIP_BENCH_WARMUP_SECS` (default 15 s: sled settles after
//!    the generated log and the start-up), reserve throughput without a
//!    backup for `QSKIP_BENCH_SECS` (default 5 s);
//! 2. `POST /v1/admin/backup` streamed to a file while the same load runs: the backup's
//!    wall time, and reserve throughput for exactly that time;
//! 3. throughput without a backup again (the baseline is the mean of 1 and 3);
//! 4. `restore` of the file into a new data dir (every checksum, the digest fold, every
//!    index rebuilt), and `verify`.
//!
//! Prints the times and the throughput loss during the backup (target < 20%).
//! Run: `cargo bench --bench backup`.

#[path = "common/generated_log.rs"]
mod generated_log;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::rt::System;
use chrono::{DurationRound, TimeDelta, Utc};
use generated_log::{Generator, append, env_u64};
use qskip::app::Application;
use qskip::backup::restore::{restore, verify};
use qskip::clock::SystemClock;
use qskip::config::Config;
use qskip::store::EventLog;

const TOKEN: &str = "bench-admin-token-0123456789abcdef";
/// Windows the load spreads over (25 000 slots each: none sells out).
const WINDOWS: usize = 200;

/// Starts qskip on `data_dir` in its own thread; returns its address.
fn start_qskip(data_dir: &Path) -> String {
    let config = format!(
        "bind = \"127.0.0.1:0\"\ndata_dir = {:?}\nadmin_token = {TOKEN:?}\n[limits]\nenabled = false\n\
         [[venues]]\nid = \"load\"\nname = \"Load\"\ntimezone = \"UTC\"\nprice_minor = 500\ncurrency = \"eur\"\n\
         slots_per_hour = 100000\n",
        data_dir.to_str().expect("UTF-8 temp path")
    );
    let config = Config::from_toml(&config, "bench.toml".as_ref()).expect("valid bench config");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runner = System::new();
        runner.block_on(async move {
            let app = Application::build(config, Arc::new(SystemClock)).await.expect("qskip starts");
            tx.send(app.addr()).expect("report the address");
            actix_web::rt::spawn(app.run_until_stopped());
        });
        runner.run().expect("qskip system runs");
    });
    format!("http://{}", rx.recv().expect("qskip started"))
}

/// Reserve requests answered 201 while `counting`, until `stop`.
async fn reserver(client: reqwest::Client, url: String, bodies: Arc<Vec<String>>, state: Arc<Load>) {
    let mut n = state.next.fetch_add(1, Ordering::Relaxed) as usize;
    while !state.stop.load(Ordering::Relaxed) {
        let body = bodies[n % bodies.len()].clone();
        let response = client.post(&url).header("content-type", "application/json").body(body).send().await;
        if response.is_ok_and(|r| r.status().as_u16() == 201) && state.counting.load(Ordering::Relaxed) {
            state.ok.fetch_add(1, Ordering::Relaxed);
        }
        n = state.next.fetch_add(1, Ordering::Relaxed) as usize;
    }
}

#[derive(Default)]
struct Load {
    next: AtomicU64,
    ok: AtomicU64,
    counting: AtomicBool,
    stop: AtomicBool,
}

impl Load {
    /// Counts successes while `during` runs; returns (requests per second, seconds).
    fn measure<T>(&self, during: impl FnOnce() -> T) -> (f64, f64, T) {
        self.ok.store(0, Ordering::Relaxed);
        self.counting.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let out = during();
        self.counting.store(false, Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64();
        (self.ok.load(Ordering::Relaxed) as f64 / secs, secs, out)
    }
}

/// Streams a backup of the service at `base` into `to`; returns the bytes written.
async fn take_backup(base: &str, to: &Path) -> u64 {
    let header = qskip::backup::client::backup_remote(base, TOKEN, to).await.expect("the backup is taken");
    println!("backup: records 1..={} ({} records)", header.last_seq, header.record_count);
    std::fs::metadata(to).expect("the backup exists").len()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("backup: bench");
        return;
    }
    let events = env_u64("QSKIP_BENCH_EVENTS", 1_000_000);
    let secs = env_u64("QSKIP_BENCH_SECS", 5);
    let connections = env_u64("QSKIP_BENCH_CONNECTIONS", 32) as usize;
    let dir = tempfile::TempDir::new().expect("temp dir");
    let data_dir = dir.path().join("data");
    let started = Instant::now();
    {
        let log = EventLog::open(&data_dir).expect("open log");
        append(&log, &mut Generator::new(), events);
        println!("generated {} records in {:.1} s", log.last_seq().expect("last seq"), started.elapsed().as_secs_f64());
    }
    let started = Instant::now();
    let base = start_qskip(&data_dir);
    println!("qskip started on the log in {:.1} s", started.elapsed().as_secs_f64());

    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let quarter = TimeDelta::minutes(15);
    let first = Utc::now().duration_trunc(quarter).expect("a quarter hour") + TimeDelta::days(1);
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..WINDOWS)
            .map(|i| format!(r#"{{"quantity":1,"window_start":"{}"}}"#, (first + quarter * i as i32).to_rfc3339()))
            .collect(),
    );
    let load = Arc::new(Load::default());
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/venues/load/reservations");
    let tasks: Vec<_> = (0..connections)
        .map(|_| rt.spawn(reserver(client.clone(), url.clone(), bodies.clone(), load.clone())))
        .collect();
    // Warm-up: every window's actor started, sled's cache holding the hot pages.
    std::thread::sleep(Duration::from_secs(env_u64("QSKIP_BENCH_WARMUP_SECS", 15)));

    let measure_for = Duration::from_secs(secs);
    let (before, _, ()) = load.measure(|| std::thread::sleep(measure_for));
    let file: PathBuf = dir.path().join("bench.qsbak");
    let (during, backup_secs, bytes) = load.measure(|| rt.block_on(take_backup(&base, &file)));
    let (after, _, ()) = load.measure(|| std::thread::sleep(measure_for));
    load.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        rt.block_on(task).expect("load task");
    }
    let baseline = (before + after) / 2.0;
    println!("backup over HTTP under load: {backup_secs:.2} s, {:.1} MB", bytes as f64 / 1e6);
    println!("reserve throughput: {before:.0}/s before, {during:.0}/s during the backup, {after:.0}/s after");
    let loss = |base: f64| (1.0 - during / base) * 100.0;
    println!(
        "loss during the backup: {:.1}% of the mean of before and after (target < 20%); {:.1}% of before, {:.1}% of after",
        loss(baseline),
        loss(before),
        loss(after)
    );

    let started = Instant::now();
    let restored = restore(&file, None, &dir.path().join("restored")).expect("the backup restores");
    println!("restore: {} records in {:.2} s", restored.last_seq, started.elapsed().as_secs_f64());
    let started = Instant::now();
    verify(&file, None).expect("the backup verifies");
    println!("verify-backup: {:.2} s", started.elapsed().as_secs_f64());
}
