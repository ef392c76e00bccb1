//! `qskip-sim`: runs the deterministic simulation (`qskip::sim`) over a range of seeds
//! and prints every failure with the command that reruns it.
//!
//! `qskip-sim --seed 42` reruns one seed; `qskip-sim --seed 0 --seeds 10000` runs
//! seeds 0..10000. Exit status 1 if any seed failed.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Deterministic simulation of qskip: seeded faults, invariants after every step")]
struct Args {
    /// First seed (the only one unless --seeds is given).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many consecutive seeds to run.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Steps per seed before the fault-free drain.
    #[arg(long, default_value_t = 400)]
    steps: u64,
    /// Base fault probability in percent (crash points weigh it; 0 = no faults).
    #[arg(long, default_value_t = 1)]
    faults: u64,
    /// Print every step of the run to stderr.
    #[arg(long)]
    trace: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Panics are reported as failures with their seed; the default hook would print
    // each one a second time.
    std::panic::set_hook(Box::new(|_| {}));
    let options =
        qskip::sim::Options { steps: args.steps, fault_percent: args.faults, mutation: None, trace: args.trace };
    let started = Instant::now();
    let (mut failures, mut total) = (0u64, qskip::sim::Stats::default());
    for seed in args.seed..args.seed.saturating_add(args.seeds) {
        match qskip::sim::run(seed, &options) {
            Ok(stats) => total.add(&stats),
            Err(failure) => {
                failures += 1;
                eprintln!("{failure}");
            }
        }
    }
    println!(
        "seeds {}..{}: {} failed; {} steps, {} records, {} crashes, {} snapshots, {} payments, {} webhook deliveries, {} refunds recorded; {:.1} s",
        args.seed,
        args.seed.saturating_add(args.seeds),
        failures,
        total.steps,
        total.records,
        total.crashes,
        total.snapshots,
        total.payments,
        total.deliveries,
        total.refunds,
        started.elapsed().as_secs_f64()
    );
    if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
