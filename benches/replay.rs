//! Replay throughput and start-up time with and without a recent snapshot.
//!
//! Generates a log of `QSKIP_BENCH_EVENTS` records (default 1 000 000; written straight
//! through `EventLog::write_batch`, one flush at the end), made by the domain's own
//! `decide`: thousands of past windows (holds, confirmations, cancellations, expiries)
//! and a few live ones. Then, on that same log:
//! - `qskip replay`'s function over the whole log, on a fresh open: records per second;
//! - start-up as `Application::build` runs it (open sled, then `recover_at_startup`),
//!   without any snapshot (a full replay), and with a snapshot
//!   taken `QSKIP_BENCH_TAIL` records before the end (default `SNAPSHOT_EVERY_EVENTS_DEFAULT`,
//!   the most a running service leaves behind), alternating, best of 3 each.
//!
//! Prints both times and their ratio (target >= 10x).
//! Run: `cargo bench --bench replay`.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use qskip::limits::SNAPSHOT_EVERY_EVENTS_DEFAULT;
use qskip::replay::{Filter, replay};
use qskip::store::EventLog;
use qskip::store::snapshot::{SnapshotDir, recover_at_startup};

#[path = "common/generated_log.rs"]
mod generated_log;

use generated_log::{Generator, append, env_u64};

/// One start-up as the service does it: open sled (cold cache), then recover. Returns
/// the total time, the part spent opening sled, and the records folded.
fn time_startup(data_dir: &Path, snapshots: &SnapshotDir, now: DateTime<Utc>) -> (Duration, Duration, u64) {
    let started = Instant::now();
    let log = EventLog::open(data_dir).expect("open log");
    let opened = started.elapsed();
    let recovered = recover_at_startup(&log, snapshots, now).expect("recover");
    (started.elapsed(), opened, recovered.records_folded)
}

fn main() {
    let events = env_u64("QSKIP_BENCH_EVENTS", 1_000_000);
    let tail = env_u64("QSKIP_BENCH_TAIL", SNAPSHOT_EVERY_EVENTS_DEFAULT);
    let dir = tempfile::TempDir::new().expect("temp dir");
    let log = EventLog::open(dir.path()).expect("open log");
    let mut generator = Generator::new();

    let started = Instant::now();
    append(&log, &mut generator, events.saturating_sub(tail));
    let with_snapshot = SnapshotDir::of_data_dir(dir.path());
    let recovered = recover_at_startup(&log, &with_snapshot, generator.now).expect("recover");
    with_snapshot.write(&recovered.state).expect("write snapshot");
    append(&log, &mut generator, tail);
    let total = log.last_seq().expect("last seq");
    println!("generated {total} records in {:.1} s", started.elapsed().as_secs_f64());

    drop(log);
    let empty = tempfile::TempDir::new().expect("temp dir");
    let without = SnapshotDir::of_data_dir(empty.path());
    let (mut full_best, mut snap_best) = ((Duration::MAX, Duration::MAX, 0), (Duration::MAX, Duration::MAX, 0));
    for _ in 0..3 {
        full_best = full_best.min(time_startup(dir.path(), &without, generator.now));
        snap_best = snap_best.min(time_startup(dir.path(), &with_snapshot, generator.now));
    }
    let (full_best, full_open, full_folded) = full_best;
    let (snap_best, snap_open, snap_folded) = snap_best;
    println!(
        "start-up without snapshot: {:.3} s (sled open {:.3} s, folded {full_folded} records)",
        full_best.as_secs_f64(),
        full_open.as_secs_f64()
    );
    println!(
        "start-up with a snapshot {tail} records old: {:.3} s (sled open {:.3} s, folded {snap_folded} records, \
         {} live windows)",
        snap_best.as_secs_f64(),
        snap_open.as_secs_f64(),
        recovered.state.windows.len()
    );
    println!(
        "ratio: {:.1}x faster with the snapshot (target >= 10x)",
        full_best.as_secs_f64() / snap_best.as_secs_f64()
    );

    // Replay as `qskip replay` runs it: a fresh open of the stopped service's data dir.
    let log = EventLog::open(dir.path()).expect("open log");
    let started = Instant::now();
    let report = replay(&log, &SnapshotDir::of_data_dir(Path::new("/nonexistent")), &Filter::default(), |_, _| {})
        .expect("replay");
    let replay_time = started.elapsed();
    assert!(report.is_clean(), "the generated log is legal");
    println!(
        "replay: {} records, {} windows in {:.2} s = {:.0} records/s",
        report.records,
        report.windows.len(),
        replay_time.as_secs_f64(),
        report.records as f64 / replay_time.as_secs_f64()
    );
}
