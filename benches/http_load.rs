//! HTTP load on loopback, in one run, with the same load generator for every phase:
//!
//! 1. `echo`: the ceiling, a bare actix-web server (same runtime settings as qskip:
//!    `HttpServer` with one worker per available core) whose `POST /echo` parses the
//!    JSON body and returns it;
//! 2. `spread`: qskip's `POST /v1/venues/{venue}/reservations`, each request aimed
//!    round-robin at one of 200 future windows;
//! 3. `hot`: the same endpoint with every connection on ONE window at a time. A window
//!    holds 25,000 slots (slots_per_hour = 100,000), so the generator moves all
//!    connections on to the next window after 20,000 requests and a window can never
//!    sell out; a 409 would be counted as an error, not a success.
//!
//! The load generator (`benches/load`) is a minimal HTTP/1.1 keep-alive client over
//! tokio `TcpStream`s (one request in flight per connection), on its own small tokio
//! runtime whose threads are named `bench-client`, so that its CPU use is reported
//! separately. `cargo bench --bench peers` runs the same phases beside Redis and
//! PostgreSQL.
//!
//! Env: `QSKIP_BENCH_SECS` (measure, default 5), `QSKIP_BENCH_WARMUP_SECS` (default 1),
//! `QSKIP_BENCH_CONNECTIONS` (default 64), `QSKIP_BENCH_CLIENT_THREADS` (default 1),
//! `QSKIP_BENCH_PHASES` (comma list of echo,spread,hot,day,mixed; default all):
//! `day` reads a day of windows (96) of the spread venue, whose first 200 windows the
//! spread phase has opened; `mixed` runs the spread reserve load and the day read load
//! together (half the connections each) after the same reserve load alone (half the
//! connections), to show what reads cost reservations.
//!
//! Run: `cargo bench --bench http_load`.

mod load;

/// The same allocator as the `qskip` binary (src/main.rs), so that the in-process
/// server is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use load::driver::{run_phase, run_together};
use load::report::{client_runtime, env_secs, env_usize, print_table, ratio};
use load::servers::{start_echo, start_qskip};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("http_load: bench");
        return;
    }
    let measure = env_secs("QSKIP_BENCH_SECS", 5.0);
    let warmup = env_secs("QSKIP_BENCH_WARMUP_SECS", 1.0);
    let connections = env_usize("QSKIP_BENCH_CONNECTIONS", 64).max(1);
    let client_threads = env_usize("QSKIP_BENCH_CLIENT_THREADS", 1).max(1);
    let phases_wanted = std::env::var("QSKIP_BENCH_PHASES").unwrap_or_else(|_| "echo,spread,hot,day,mixed".into());
    let wants = |name: &str| phases_wanted.split(',').any(|p| p.trim() == name);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let data_dir = tempfile::TempDir::new().expect("temp data dir");
    let echo = start_echo(cores);
    let qskip = start_qskip(data_dir.path());
    let rt = client_runtime(client_threads);
    println!(
        "http_load: {connections} keep-alive connections, warm-up {:.1} s + measure {:.1} s per phase; \
         {cores} cores, {cores} server workers, {client_threads} client thread(s)",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    let mut phases = Vec::new();
    if wants("echo") {
        phases.push(load::echo_phase(&echo));
    }
    if wants("spread") {
        phases.push(load::qskip_phase(&qskip, false));
    }
    if wants("hot") {
        phases.push(load::qskip_phase(&qskip, true));
    }
    if wants("day") {
        phases.push(load::day_phase(&qskip));
    }
    let mut results: Vec<_> = phases.into_iter().map(|p| run_phase(&rt, p, connections, warmup, measure)).collect();
    if wants("mixed") {
        let half = (connections / 2).max(1);
        let mut alone = load::qskip_phase(&qskip, false);
        alone.name = "alone: reserve (spread)".into();
        results.push(run_phase(&rt, alone, half, warmup, measure));
        let mut reserve = load::qskip_phase(&qskip, false);
        reserve.name = "mixed: reserve (spread)".into();
        let mut read = load::day_phase(&qskip);
        read.name = "mixed: day read".into();
        results.extend(run_together(&rt, vec![(reserve, half), (read, half)], warmup, measure));
    }
    print_table(&results);
    println!();
    ratio(&results, "qskip spread", "echo", "target >= 0.40");
    ratio(&results, "qskip hot", "qskip spread", "target >= 0.80");
    ratio(&results, "qskip day", "echo", "target >= 0.50");
    ratio(&results, "mixed: reserve", "alone: reserve", "half the connections each; target >= 0.90");

    drop(rt);
    echo.stop();
    qskip.stop();
    drop(data_dir);
}
