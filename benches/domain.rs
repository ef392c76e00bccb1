//! Throughput of the pure window core: `Window::decide` followed by `Window::apply`.
//!
//! Three workloads, each counted in commands per second (`Throughput::Elements(1)` per
//! command; one command = one `decide` plus an `apply` of every event it returns):
//! - `place_hold`: holds of one slot on a window with capacity 100k;
//! - `confirm`: confirming live holds (the holds are placed outside the timed region);
//! - `mixed`: a steady cycle of 4 holds, 2 confirms and 1 cancel per 7 commands, where
//!   every 4th hold is left alone and later expires lazily (its `HoldExpired` is emitted
//!   by whichever `decide` first sees it due), with the clock moving 1 ms per command.
//!
//! A window keeps at most `RESERVATIONS_PER_WINDOW_MAX` reservations, so each workload
//! starts a fresh window every `CHUNK` commands; building it is not timed.
//!
//! Run: `cargo bench --bench domain` (add `-- --quick` for a short run).

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qskip::domain::{Command, ReservationId, VenueId, Window, WindowEvent, WindowKey};
use uuid::Uuid;

/// Capacity of the benchmark window, in slots.
const CAPACITY: u32 = 100_000;
/// Commands per fresh window (well under the 100k reservations a window keeps).
const CHUNK: usize = 21_000;

fn window_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, 12, 0, 0).single().expect("a valid instant")
}

/// A day before the window starts: every hold is accepted on time.
fn base_now() -> DateTime<Utc> {
    window_start() - Duration::days(1)
}

fn fresh_window() -> Window {
    let key = WindowKey::new(VenueId::parse("bench").expect("valid venue id"), window_start());
    Window::unopened(key, CAPACITY)
}

fn random_ids(n: usize) -> Vec<ReservationId> {
    (0..n).map(|_| ReservationId::from_uuid(Uuid::new_v4())).collect()
}

fn hold(id: ReservationId, ttl: Duration) -> Command {
    Command::PlaceHold { reservation_id: id, quantity: 1, hold_ttl: ttl, email: None, waitlist_offer_secs: None }
}

/// One command through the core: decide, then apply every event. Returns the number of
/// events so the work cannot be optimised away.
#[inline]
fn execute(window: &mut Window, command: &Command, now: DateTime<Utc>) -> usize {
    let events = window.decide(command, now).expect("the benchmark only issues commands that succeed");
    for event in &events {
        window.apply(event);
    }
    events.len()
}

/// Runs `iters` commands from `commands` (cycled), rebuilding the window with `prepare`
/// every time the sequence restarts; only the commands are timed.
fn timed_cycles(iters: u64, commands: &[(Command, DateTime<Utc>)], prepare: &dyn Fn() -> Window) -> StdDuration {
    let mut elapsed = StdDuration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(commands.len());
        let mut window = prepare();
        let started = Instant::now();
        let mut events = 0;
        for (command, now) in &commands[..n] {
            events += execute(&mut window, command, *now);
        }
        elapsed += started.elapsed();
        black_box(events);
        black_box(&window);
        left -= n;
    }
    elapsed
}

fn place_hold(c: &mut Criterion) {
    let ttl = Duration::minutes(30);
    let now = base_now();
    let commands: Vec<_> = random_ids(CHUNK).into_iter().map(|id| (hold(id, ttl), now)).collect();
    let mut group = c.benchmark_group("window");
    group.throughput(Throughput::Elements(1));
    group.bench_function("place_hold", |b| b.iter_custom(|iters| timed_cycles(iters, &commands, &fresh_window)));
    group.finish();
}

fn confirm(c: &mut Criterion) {
    let ttl = Duration::minutes(30);
    let now = base_now();
    let ids = random_ids(CHUNK);
    let holds: Vec<_> = ids.iter().map(|&id| (hold(id, ttl), now)).collect();
    let held = {
        let mut window = fresh_window();
        for (command, now) in &holds {
            execute(&mut window, command, *now);
        }
        window
    };
    let later = now + Duration::seconds(1);
    let confirms: Vec<_> = ids
        .iter()
        .map(|&id| (Command::Confirm { reservation_id: id, payment_ref: format!("pi_{id}") }, later))
        .collect();
    let mut group = c.benchmark_group("window");
    group.throughput(Throughput::Elements(1));
    group.bench_function("confirm", |b| b.iter_custom(|iters| timed_cycles(iters, &confirms, &|| held.clone())));
    group.finish();
}

/// The mixed sequence: per block of 7 commands, 4 holds (h0..h3) and, for the block
/// `LAG` blocks back, confirm h0, cancel h1, confirm h2; h3 is never touched and
/// expires after `ttl`, emitted lazily by a later decide.
fn mixed_commands() -> Vec<(Command, DateTime<Utc>)> {
    const LAG: usize = 10;
    let ttl = Duration::seconds(2);
    let blocks = CHUNK / 7;
    let ids = random_ids(blocks * 4);
    let mut commands = Vec::with_capacity(CHUNK);
    let mut now = base_now();
    for block in 0..blocks {
        let mut push = |command: Command| {
            commands.push((command, now));
            now += Duration::milliseconds(1);
        };
        for h in 0..4 {
            push(hold(ids[block * 4 + h], ttl));
        }
        if block >= LAG {
            let old = &ids[(block - LAG) * 4..(block - LAG) * 4 + 4];
            push(Command::Confirm { reservation_id: old[0], payment_ref: format!("pi_{}", old[0]) });
            push(Command::Cancel { reservation_id: old[1] });
            push(Command::Confirm { reservation_id: old[2], payment_ref: format!("pi_{}", old[2]) });
        }
    }
    commands
}

fn mixed(c: &mut Criterion) {
    let commands = mixed_commands();
    // The sequence must be valid end to end, and must actually exercise expiry.
    let mut window = fresh_window();
    let mut expired = 0;
    for (command, now) in &commands {
        for event in window.decide(command, *now).expect("valid mixed sequence") {
            expired += usize::from(matches!(event, WindowEvent::HoldExpired { .. }));
            window.apply(&event);
        }
    }
    assert!(expired > 1000, "the mixed workload expires holds (got {expired})");

    let mut group = c.benchmark_group("window");
    group.throughput(Throughput::Elements(1));
    group.bench_function("mixed_reserve_confirm_cancel_expire", |b| {
        b.iter_custom(|iters| timed_cycles(iters, &commands, &fresh_window))
    });
    group.finish();
}

/// The cost of `counts_at` on a window with many live holds (every decide calls it).
fn counts(c: &mut Criterion) {
    let ttl = Duration::minutes(30);
    let now = base_now();
    let mut window = fresh_window();
    for id in random_ids(10_000) {
        execute(&mut window, &hold(id, ttl), now);
    }
    let mut group = c.benchmark_group("window");
    group.throughput(Throughput::Elements(1));
    group.bench_function("counts_at_10k_live_holds", |b| b.iter(|| black_box(window.counts_at(black_box(now)))));
    group.finish();
}

criterion_group!(benches, place_hold, confirm, mixed, counts);
criterion_main!(benches);
