//! Journal throughput: 64 concurrent appenders, each appending one small window record
//! at a time and awaiting its durability, against a real sled log in a temp dir.
//!
//! Compares, in one run and under the same load:
//! - one flush per append (`batch_submissions_max = 1`, the baseline) vs group commit
//!   (the default `JournalOptions`), both with `sync_data` on;
//! - `sync_data` on vs off (the cost of the fdatasync after sled's flush), for both.
//!
//! Each configuration gets a fresh log, a warm-up, then a fixed measuring time.
//! Env: `QSKIP_BENCH_SECS` (measuring seconds per configuration, default 3),
//! `QSKIP_BENCH_WARMUP_SECS` (default 0.5), `QSKIP_BENCH_APPENDERS` (default 64).
//!
//! Run: `cargo bench --bench journal`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use qskip::domain::{ReservationId, VenueId, WindowEvent, WindowKey};
use qskip::store::{EventLog, Journal, JournalError, JournalOptions, Record};
use uuid::Uuid;

fn env_secs(name: &str, default: f64) -> Duration {
    let secs = std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(default);
    Duration::from_secs_f64(secs.max(0.0))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Setting {
    name: &'static str,
    options: JournalOptions,
}

struct Outcome {
    appends_per_sec: f64,
    records_per_batch: f64,
    flush_micros_per_batch: f64,
    p50_micros: u64,
    p99_micros: u64,
}

/// A hold of one slot in window `n` of the benchmark venue, under a fresh random id.
fn record(key: &WindowKey, now: DateTime<Utc>) -> (DateTime<Utc>, Record) {
    let event = WindowEvent::HoldPlaced {
        reservation_id: ReservationId::from_uuid(Uuid::new_v4()),
        quantity: 1,
        placed_at: now,
        expires_at: now + chrono::Duration::minutes(30),
        email: None,
    };
    (now, Record::Window(key.clone(), event))
}

fn window_key(n: usize) -> WindowKey {
    let start = Utc.with_ymd_and_hms(2030, 1, 7, 0, 0, 0).single().expect("valid instant")
        + chrono::Duration::minutes(15 * n as i64);
    WindowKey::new(VenueId::parse("bench").expect("valid venue id"), start)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn run(
    rt: &tokio::runtime::Runtime,
    setting: &Setting,
    appenders: usize,
    warmup: Duration,
    measure: Duration,
) -> Outcome {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let log = EventLog::open(dir.path()).expect("open event log");
    let on_fatal = Box::new(|e: &JournalError| eprintln!("journal failed: {e}"));
    let journal = Journal::start(log, setting.options, on_fatal).expect("start journal");

    let appended = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..appenders)
        .map(|n| {
            let (journal, appended, measuring, stop) =
                (journal.clone(), appended.clone(), measuring.clone(), stop.clone());
            rt.spawn(async move {
                let key = window_key(n);
                let mut latencies = Vec::with_capacity(1 << 16);
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (_, durable) = journal.append(vec![record(&key, Utc::now())]);
                    durable.await.expect("append is durable");
                    appended.fetch_add(1, Ordering::Relaxed);
                    if measuring.load(Ordering::Relaxed) {
                        latencies.push(started.elapsed().as_micros() as u64);
                    }
                }
                latencies
            })
        })
        .collect();

    std::thread::sleep(warmup);
    let stats = journal.stats();
    let snapshot = || {
        (
            appended.load(Ordering::Relaxed),
            stats.batches.load(Ordering::Relaxed),
            stats.records.load(Ordering::Relaxed),
            stats.flush_micros.load(Ordering::Relaxed),
        )
    };
    measuring.store(true, Ordering::Relaxed);
    let (a0, b0, r0, f0) = snapshot();
    let started = Instant::now();
    std::thread::sleep(measure);
    let (a1, b1, r1, f1) = snapshot();
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<u64> = rt.block_on(async {
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("appender task"));
        }
        all
    });
    journal.shutdown();
    latencies.sort_unstable();

    let batches = (b1 - b0).max(1) as f64;
    Outcome {
        appends_per_sec: (a1 - a0) as f64 / elapsed.as_secs_f64(),
        records_per_batch: (r1 - r0) as f64 / batches,
        flush_micros_per_batch: (f1 - f0) as f64 / batches,
        p50_micros: percentile(&latencies, 0.50),
        p99_micros: percentile(&latencies, 0.99),
    }
}

/// Where a group-commit batch spends its time, measured on the log directly from one
/// thread: `write_batch` (encode + sled inserts: CPU) and `make_durable` (sled flush,
/// then fdatasync or not: mostly I/O wait). Returns (write us/record, durable us/batch).
fn breakdown(sync_data: bool, batch: usize, duration: Duration) -> (f64, f64) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let log = EventLog::open(dir.path()).expect("open event log");
    let keys: Vec<WindowKey> = (0..64).map(window_key).collect();
    let (mut seq, mut batches) = (1, 0u64);
    let (mut writing, mut durable) = (Duration::ZERO, Duration::ZERO);
    let started = Instant::now();
    while started.elapsed() < duration {
        let now = Utc::now();
        let records: Vec<_> = (0..batch).map(|i| record(&keys[i % keys.len()], now)).collect();
        let t0 = Instant::now();
        log.write_batch(seq, &records).expect("write batch");
        let t1 = Instant::now();
        log.make_durable(sync_data).expect("make durable");
        writing += t1 - t0;
        durable += t1.elapsed();
        seq += batch as u64;
        batches += 1;
    }
    let batches = batches.max(1) as f64;
    (writing.as_secs_f64() * 1e6 / (batches * batch as f64), durable.as_secs_f64() * 1e6 / batches)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter or `--list` from the harness is ignored.
    if std::env::args().any(|a| a == "--list") {
        println!("journal: bench");
        return;
    }
    let measure = env_secs("QSKIP_BENCH_SECS", 3.0);
    let warmup = env_secs("QSKIP_BENCH_WARMUP_SECS", 0.5);
    let appenders = env_usize("QSKIP_BENCH_APPENDERS", 64).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");

    let group = JournalOptions::default();
    let one = JournalOptions { batch_submissions_max: 1, ..group };
    let settings = [
        Setting { name: "one flush per append, fdatasync", options: one },
        Setting { name: "group commit, fdatasync", options: group },
        Setting { name: "group commit, no fdatasync", options: JournalOptions { sync_data: false, ..group } },
        Setting { name: "one flush per append, no fdatasync", options: JournalOptions { sync_data: false, ..one } },
    ];

    println!(
        "journal: {appenders} concurrent appenders, 1 HoldPlaced record per append, warm-up {:.1} s, measure {:.1} s each",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!(
        "{:<38} {:>12} {:>10} {:>13} {:>9} {:>9}",
        "configuration", "appends/s", "recs/batch", "flush us/bat", "p50 us", "p99 us"
    );
    let mut results = Vec::new();
    for setting in &settings {
        let o = run(&rt, setting, appenders, warmup, measure);
        println!(
            "{:<38} {:>12.0} {:>10.1} {:>13.0} {:>9} {:>9}",
            setting.name, o.appends_per_sec, o.records_per_batch, o.flush_micros_per_batch, o.p50_micros, o.p99_micros
        );
        results.push(o);
    }
    let batch = results[1].records_per_batch.round().max(1.0) as usize;
    let breakdown_time = measure.mul_f64(0.25).max(Duration::from_millis(200));
    for sync_data in [true, false] {
        let (write, durable) = breakdown(sync_data, batch, breakdown_time);
        println!(
            "single-thread breakdown, batches of {batch}: write_batch {write:.1} us/record, \
             make_durable(sync_data = {sync_data}) {durable:.0} us/batch"
        );
    }
    let rate = |i: usize| results[i].appends_per_sec;
    println!();
    println!("group commit / one flush per append (fdatasync on):  {:>6.1}x  (target >= 10x)", rate(1) / rate(0));
    println!("group commit / one flush per append (fdatasync off): {:>6.1}x", rate(2) / rate(3));
    println!(
        "fdatasync cost under group commit: {:.0}% fewer appends/s ({:.0} vs {:.0})",
        100.0 * (1.0 - rate(1) / rate(2)),
        rate(1),
        rate(2)
    );
    println!(
        "fdatasync cost at one flush per append: {:.0}% fewer appends/s ({:.0} vs {:.0})",
        100.0 * (1.0 - rate(0) / rate(3)),
        rate(0),
        rate(3)
    );
}
