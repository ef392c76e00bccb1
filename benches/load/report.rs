//! The results table the load benches print, and the environment knobs they share.

use std::time::Duration;

use super::driver::PhaseResult;

pub fn env_secs(name: &str, default: f64) -> Duration {
    let secs = std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(default);
    Duration::from_secs_f64(secs.max(0.0))
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The client runtime: its threads are named `bench-client`, so the CPU accounting
/// tells the load generator's share from the servers'.
pub fn client_runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("client runtime")
}

pub fn print_table(results: &[PhaseResult]) {
    println!();
    println!(
        "{:<34} {:>10} {:>9} {:>9} {:>8} {:>11} {:>11} {:>11} {:>10}",
        "phase", "req/s", "p50 ms", "p99 ms", "errors", "client CPU", "server CPU", "other CPU", "server us"
    );
    for r in results {
        let errors: u64 = r.errors.values().sum();
        println!(
            "{:<34} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>10.2}c {:>10.2}c {:>10.2}c {:>10.0}",
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
    println!("(CPU in cores over the measured interval: client = load generator threads, server = every other");
    println!(" thread of this process (peers run in their own processes and show under other), other = the");
    println!(" rest of the machine; server us = server CPU microseconds per successful request)");
}

/// The rate of the first phase whose name starts with `prefix`.
pub fn rate(results: &[PhaseResult], prefix: &str) -> Option<f64> {
    results.iter().find(|r| r.name.starts_with(prefix)).map(|r| r.requests_per_sec)
}

/// Prints `a / b` with its target, when both phases ran.
pub fn ratio(results: &[PhaseResult], a: &str, b: &str, target: &str) {
    if let (Some(x), Some(y)) = (rate(results, a), rate(results, b)) {
        println!("{a} / {b}: {:.2}  ({target})", x / y.max(f64::MIN_POSITIVE));
    }
}
