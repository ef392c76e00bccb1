//! qskip beside the stores a user might pick instead for "never oversell", in one run
//! on one machine, with the same reserve semantics (capacity check and hold in one
//! atomic step, durable before the answer), the same number of connections and the
//! same load generator (`benches/load`), on both workloads (spread over 200 windows,
//! every connection on one hot window):
//!
//! - qskip over HTTP (group commit + fdatasync before every 2xx);
//! - Redis, a Lua script, `appendfsync always` (fsync before every reply), then
//!   `everysec` for reference (a crash may lose about a second of sales);
//! - PostgreSQL, one conditional statement, `synchronous_commit = on`.
//!
//! It installs `redis-server` and `postgresql` with apt-get when missing, starts them on
//! 127.0.0.1 with throwaway data dirs and stops them by PID. Each phase is bounded by
//! `QSKIP_BENCH_SECS` (default 5) + `QSKIP_BENCH_WARMUP_SECS` (default 1); the whole
//! run by about 9 phases of that. It is a bench: nothing in CI depends on its numbers.
//!
//! Run: `cargo bench --bench peers`.

mod load;

/// The same allocator as the `qskip` binary (src/main.rs), so that the in-process
/// server is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;

use load::driver::{Phase, PhaseResult, run_phase};
use load::peers::{ensure_installed, postgres_connector, redis_connector, start_postgres, start_redis};
use load::report::{client_runtime, env_secs, env_usize, print_table, ratio};
use load::servers::{start_echo, start_qskip};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("peers: bench");
        return;
    }
    let measure = env_secs("QSKIP_BENCH_SECS", 5.0);
    let warmup = env_secs("QSKIP_BENCH_WARMUP_SECS", 1.0);
    let connections = env_usize("QSKIP_BENCH_CONNECTIONS", 64).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let has_redis = ensure_installed("/usr/bin/redis-server", &["redis-server"]);
    let has_postgres = load::peers::postgres_bin().is_some() || ensure_installed("/usr/bin/psql", &["postgresql"]);
    let rt = client_runtime(env_usize("QSKIP_BENCH_CLIENT_THREADS", 1).max(1));
    let run = |phase: Phase| run_phase(&rt, phase, connections, warmup, measure);
    println!(
        "peers: {connections} connections, warm-up {:.1} s + measure {:.1} s per phase, {cores} cores",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );

    let mut results: Vec<PhaseResult> = Vec::new();
    let echo = start_echo(cores);
    results.push(run(load::echo_phase(&echo)));
    echo.stop();
    let data_dir = tempfile::TempDir::new().expect("temp data dir");
    let qskip = start_qskip(data_dir.path());
    results.push(run(load::qskip_phase(&qskip, false)));
    results.push(run(load::qskip_phase(&qskip, true)));
    qskip.stop();
    for (fsync, label) in [("always", "redis always"), ("everysec", "redis everysec")] {
        if !has_redis {
            println!("redis-server is missing and could not be installed: skipping {label}");
            continue;
        }
        for hot in [false, true] {
            let redis = start_redis(fsync);
            let name = format!("{label} {}", if hot { "hot" } else { "spread" });
            results.push(run(Phase { name, connect: Arc::new(redis_connector(redis.port, hot)) }));
        }
    }
    if has_postgres {
        for hot in [false, true] {
            let postgres = start_postgres(&rt);
            let name = format!("postgres {}", if hot { "hot" } else { "spread" });
            results.push(run(Phase { name, connect: Arc::new(postgres_connector(postgres.port, hot)) }));
        }
    } else {
        println!("postgresql is missing and could not be installed: skipping it");
    }
    print_table(&results);
    println!();
    ratio(&results, "qskip spread", "echo", "target >= 0.40");
    ratio(&results, "qskip hot", "qskip spread", "target >= 0.80");
    ratio(&results, "qskip spread", "redis always spread", "target >= 1.0, stretch 2.0");
    ratio(&results, "qskip hot", "redis always hot", "target >= 1.0");
    ratio(&results, "qskip hot", "postgres hot", "target >= 10");
    ratio(&results, "qskip spread", "postgres spread", "for reference");
    drop(data_dir);
}
