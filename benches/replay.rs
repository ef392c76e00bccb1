//! Replay throughput and start-up time with and without a recent snapshot, each beside
//! baselines measured in the same run (the machine is shared and noisy).
//!
//! Generates a log of `QSKIP_BENCH_EVENTS` records (default 1 000 000; written straight
//! through `EventLog::write_batch`, one flush at the end), made by the domain's own
//! `decide`: thousands of past windows (holds, confirmations, cancellations, expiries)
//! and a few live ones, with a snapshot taken `QSKIP_BENCH_TAIL` records before the end
//! (default `SNAPSHOT_EVERY_EVENTS_DEFAULT`, the most a running service leaves behind).
//! With `QSKIP_BENCH_DIR` set, the data dir is kept there and reused by later runs.
//! Then, on that same log, every pass on a fresh open of sled (open time excluded):
//! - baselines: sled's own range iteration over the `L` records on one thread (bytes
//!   touched, nothing decoded), and `EventLog::iter` reading and decoding every record
//!   (checksum + postcard + domain types) with nothing folded;
//! - `qskip replay`'s function over the whole log: records per second;
//! - start-up as `Application::build` runs it (open sled, then `recover_at_startup`),
//!   without any snapshot (a full replay) and with the snapshot, alternating.
//!
//! Every figure is the best of `QSKIP_BENCH_ROUNDS` (default 3), by wall time; beside it
//! the CPU time the process spent in that pass (all threads), which the other tenants of
//! a shared machine disturb less.
//! Prints the times, records/s and the ratios (targets: replay >= 1 000 000 records/s;
//! start-up with the snapshot >= 10x faster than without).
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

/// Where the generated data dir keeps the `now` the snapshot's start-up uses.
const NOW_FILE: &str = "bench-now-micros";

/// Generates the log and its snapshot into `dir`, unless a previous run left them there.
/// Returns the instant start-up pretends it is.
fn prepare(dir: &Path, events: u64, tail: u64) -> DateTime<Utc> {
    let now_file = dir.join(NOW_FILE);
    if let Some(now) = std::fs::read_to_string(&now_file).ok().and_then(|s| s.trim().parse().ok()) {
        println!("reusing the data dir {}", dir.display());
        return DateTime::from_timestamp_micros(now).expect("the bench wrote a valid instant");
    }
    let log = EventLog::open(dir).expect("open log");
    let mut generator = Generator::new();
    let started = Instant::now();
    append(&log, &mut generator, events.saturating_sub(tail));
    let snapshots = SnapshotDir::of_data_dir(dir);
    let recovered = recover_at_startup(&log, &snapshots, generator.now).expect("recover");
    snapshots.write_anchored(&recovered.state, &log).expect("write snapshot");
    append(&log, &mut generator, tail);
    println!("generated {} records in {:.1} s", log.last_seq().expect("last seq"), started.elapsed().as_secs_f64());
    std::fs::write(&now_file, generator.now.timestamp_micros().to_string()).expect("write the bench's now");
    generator.now
}

/// Wall time and CPU time (all threads of the process, user + system) of one pass.
#[derive(Clone, Copy)]
struct Timed {
    wall: Duration,
    cpu: Duration,
}

impl Timed {
    const NEVER: Self = Self { wall: Duration::MAX, cpu: Duration::MAX };

    fn line(self, records: u64) -> String {
        format!(
            "{:.3} s = {:>9.0} records/s (CPU {:.3} s, {:.2} cores busy)",
            self.wall.as_secs_f64(),
            per_sec(records, self.wall),
            self.cpu.as_secs_f64(),
            self.cpu.as_secs_f64() / self.wall.as_secs_f64()
        )
    }
}

/// CPU time the process has used so far, from `/proc/self/stat` (clock ticks of 10 ms:
/// coarse, but the passes take seconds). On a shared machine it shows the work a pass
/// did, whatever the other tenants took of the wall time.
fn cpu_used() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    // After the command name: state is field 3, utime field 14, stime field 15.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

/// Times `pass` on a fresh open of the log (open excluded); returns the time and what
/// the pass counted.
fn fresh<T>(dir: &Path, pass: impl FnOnce(&EventLog) -> T) -> (Timed, T) {
    let log = EventLog::open(dir).expect("open log");
    let (started, cpu) = (Instant::now(), cpu_used());
    let out = pass(&log);
    (Timed { wall: started.elapsed(), cpu: cpu_used() - cpu }, out)
}

/// sled's range iteration over every record, each byte touched: the floor of any replay.
fn raw_scan(log: &EventLog) -> u64 {
    let (mut records, mut sum) = (0u64, 0u64);
    for entry in log.raw_range(1, u64::MAX) {
        let (_, bytes) = entry.expect("sled reads");
        sum = sum.wrapping_add(bytes.iter().map(|b| u64::from(*b)).sum::<u64>());
        records += 1;
    }
    std::hint::black_box(sum);
    records
}

/// Every record decoded as replay decodes it, nothing applied.
fn decode_only(log: &EventLog) -> u64 {
    let mut records = 0;
    for entry in log.iter() {
        std::hint::black_box(entry.expect("the generated log decodes"));
        records += 1;
    }
    records
}

/// One start-up as the service does it: open sled (cold cache), then recover. Returns
/// the total time, the part spent opening sled, and the records folded.
fn time_startup(data_dir: &Path, snapshots: &SnapshotDir, now: DateTime<Utc>) -> (Duration, Duration, u64) {
    let started = Instant::now();
    let log = EventLog::open(data_dir).expect("open log");
    let opened = started.elapsed();
    let recovered = recover_at_startup(&log, snapshots, now).expect("recover");
    (started.elapsed(), opened, recovered.records_folded)
}

/// The faster of two passes, by wall time.
fn best(a: Timed, b: Timed) -> Timed {
    if b.wall < a.wall { b } else { a }
}

fn per_sec(records: u64, time: Duration) -> f64 {
    records as f64 / time.as_secs_f64()
}

fn main() {
    let events = env_u64("QSKIP_BENCH_EVENTS", 1_000_000);
    let tail = env_u64("QSKIP_BENCH_TAIL", SNAPSHOT_EVERY_EVENTS_DEFAULT);
    let rounds = env_u64("QSKIP_BENCH_ROUNDS", 3).max(1);
    let temp = tempfile::TempDir::new().expect("temp dir");
    let dir = std::env::var_os("QSKIP_BENCH_DIR").map_or_else(|| temp.path().to_owned(), Into::into);
    let now = prepare(&dir, events, tail);
    let with_snapshot = SnapshotDir::of_data_dir(&dir);
    let without = SnapshotDir::of_data_dir(temp.path().join("no-snapshots").as_path());
    let nowhere = SnapshotDir::of_data_dir(Path::new("/nonexistent"));

    let (mut raw, mut decoded, mut replayed) = (Timed::NEVER, Timed::NEVER, Timed::NEVER);
    let (mut full, mut snap) = ((Duration::MAX, Duration::MAX, 0), (Duration::MAX, Duration::MAX, 0));
    let (mut records, mut windows) = (0, 0);
    for _ in 0..rounds {
        let (time, raw_records) = fresh(&dir, raw_scan);
        raw = best(raw, time);
        let (time, decoded_records) = fresh(&dir, decode_only);
        decoded = best(decoded, time);
        // Replay as `qskip replay` runs it: a fresh open of the stopped service's data dir.
        let (time, report) = fresh(&dir, |log| replay(log, &nowhere, &Filter::default(), |_, _| {}).expect("replay"));
        replayed = best(replayed, time);
        assert!(report.is_clean(), "the generated log is legal");
        assert_eq!((raw_records, decoded_records), (report.records, report.records), "every pass saw every record");
        (records, windows) = (report.records, report.windows.len());
        full = full.min(time_startup(&dir, &without, now));
        snap = snap.min(time_startup(&dir, &with_snapshot, now));
    }

    println!("log: {records} records, {windows} windows; best of {rounds} rounds, each on a fresh open of sled");
    println!("sled range iteration:  {}", raw.line(records));
    println!("read + decode (iter):  {}", decoded.line(records));
    println!("replay:                {}", replayed.line(records));
    println!(
        "replay wall time / sled iteration: {:.2}x, / read + decode: {:.2}x (target: >= 1 000 000 records/s)",
        replayed.wall.as_secs_f64() / raw.wall.as_secs_f64(),
        replayed.wall.as_secs_f64() / decoded.wall.as_secs_f64()
    );
    let ((full, full_open, full_folded), (snap, snap_open, snap_folded)) = (full, snap);
    println!(
        "start-up without snapshot: {:.3} s (sled open {:.3} s, folded {full_folded} records = {:.0} records/s)",
        full.as_secs_f64(),
        full_open.as_secs_f64(),
        per_sec(full_folded, full - full_open)
    );
    println!(
        "start-up with a snapshot {tail} records old: {:.3} s (sled open {:.3} s, folded {snap_folded} records)",
        snap.as_secs_f64(),
        snap_open.as_secs_f64()
    );
    println!("ratio: {:.1}x faster with the snapshot (target >= 10x)", full.as_secs_f64() / snap.as_secs_f64());
}
