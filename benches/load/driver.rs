//! The one load generator every phase uses, whatever it talks to (qskip or the echo
//! server over HTTP, Redis, PostgreSQL): `connections` tasks, each with its own
//! connection and one request in flight, for a warm-up and then a measured interval.
//! A request counts iff it completed inside the measured interval.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::cpu::{CpuSample, TICKS_PER_SEC, cpu_sample};

pub type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
pub type ConnectFuture = Pin<Box<dyn Future<Output = Result<Box<dyn Client>, String>> + Send>>;

/// One connection of a phase: `call(n)` sends the phase's n-th request and says whether
/// it succeeded (the error is a short kind, counted per kind).
pub trait Client: Send {
    fn call(&mut self, n: u64) -> CallFuture<'_>;
}

pub struct Phase {
    pub name: String,
    pub connect: Arc<dyn Fn() -> ConnectFuture + Send + Sync>,
}

pub struct PhaseResult {
    pub name: String,
    pub requests_per_sec: f64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub p50_micros: u64,
    pub p99_micros: u64,
    /// CPU used during the measurement, in cores (1.0 = one core busy).
    pub client_cores: f64,
    pub server_cores: f64,
    pub other_cores: f64,
    /// CPU per thread name during the measurement, in cores, busiest first.
    pub threads: Vec<(String, f64)>,
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

struct Flags {
    sent: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
}

async fn connection(phase: Arc<Phase>, flags: Arc<Flags>) -> ConnStats {
    let mut stats = ConnStats { latencies: Vec::with_capacity(1 << 15), ..ConnStats::default() };
    let mut client: Option<Box<dyn Client>> = None;
    while !flags.stop.load(Ordering::Relaxed) {
        let c = match &mut client {
            Some(c) => c,
            None => match (phase.connect)().await {
                Ok(c) => client.insert(c),
                Err(e) => {
                    if flags.measuring.load(Ordering::Relaxed) {
                        *stats.errors.entry(e).or_default() += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let n = flags.sent.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = c.call(n).await;
        let micros = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        let counted = flags.measuring.load(Ordering::Relaxed) && !flags.stop.load(Ordering::Relaxed);
        match outcome {
            Ok(()) if counted => {
                stats.ok += 1;
                stats.latencies.push(micros);
            }
            Ok(()) => {}
            Err(kind) => {
                if counted {
                    *stats.errors.entry(kind.clone()).or_default() += 1;
                }
                if kind.starts_with("io") {
                    client = None;
                }
            }
        }
    }
    stats
}

pub fn run_phase(
    rt: &tokio::runtime::Runtime,
    phase: Phase,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> PhaseResult {
    run_together(rt, vec![(phase, connections)], warmup, measure).pop().expect("one phase in, one result out")
}

/// Runs several phases at once over the same interval (a read load beside the reserve
/// load), each with its own connections, counts and latencies; the CPU figures are
/// the whole interval's, the same in every result.
pub fn run_together(
    rt: &tokio::runtime::Runtime,
    phases: Vec<(Phase, usize)>,
    warmup: Duration,
    measure: Duration,
) -> Vec<PhaseResult> {
    let flags =
        Arc::new(Flags { sent: AtomicU64::new(0), measuring: AtomicBool::new(false), stop: AtomicBool::new(false) });
    let running: Vec<(Arc<Phase>, Vec<_>)> = phases
        .into_iter()
        .map(|(phase, connections)| {
            let phase = Arc::new(phase);
            let tasks = (0..connections).map(|_| rt.spawn(connection(phase.clone(), flags.clone()))).collect();
            (phase, tasks)
        })
        .collect();
    std::thread::sleep(warmup);
    let cpu0 = cpu_sample();
    flags.measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(measure);
    flags.stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let cpu1 = cpu_sample();
    running.into_iter().map(|(phase, tasks)| summarize(rt, &phase, tasks, &cpu0, &cpu1, elapsed)).collect()
}

fn summarize(
    rt: &tokio::runtime::Runtime,
    phase: &Phase,
    tasks: Vec<tokio::task::JoinHandle<ConnStats>>,
    cpu0: &CpuSample,
    cpu1: &CpuSample,
    elapsed: f64,
) -> PhaseResult {
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
        name: phase.name.clone(),
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
