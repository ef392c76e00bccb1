//! Deterministic simulation (in the spirit of TigerBeetle's VOPR and FoundationDB's
//! simulation testing): one seed drives a whole single-threaded world - clock, disk,
//! the qskip process, Stripe and its customers - through random interleavings of
//! requests and faults, and the invariants are checked after every step.
//!
//! What is real: the domain (`Window::decide`, `audit`, `apply`, venues, prices), the
//! record codec (every event is encoded as the journal writes it and decoded on every
//! read), the snapshot state, codec and wire conversion, the state digest, the Stripe
//! signature check and event parser. What is simulated: time, the disk, crashes, the
//! network and Stripe. The actor/journal plumbing is modelled (`server`), not run.
//!
//! Module map: [`rng`] (seeded randomness), [`disk`] (log and snapshot files with
//! unflushed writes, torn tails), [`stripe`] (payments, webhook deliveries, refunds
//! API with faults), [`server`] (the process: execute, boot, snapshot), [`world`]
//! (state, flush, crash points), [`actions`] (what one step does), [`check`] (the
//! invariants). Run it with `qskip-sim --seed N` (see `src/bin/qskip_sim.rs`).

mod actions;
mod check;
mod disk;
mod rng;
mod server;
mod stripe;
mod world;

use std::fmt;

pub use world::{Mutation, Stats};

use crate::domain::{Schedule, Venue, VenueId};
use crate::limits::WINDOW_SECS;
use world::World;

/// Steps of the final drain (faults off) before an owed refund counts as dropped.
const DRAIN_ROUNDS_MAX: u64 = 200;

/// A broken invariant (or a panic), with everything needed to rerun it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub seed: u64,
    pub fault_percent: u64,
    pub step: u64,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} failed at step {}: {}\n  rerun: cargo run --release --bin qskip-sim -- --seed {} --faults {} --trace",
            self.seed, self.step, self.message, self.seed, self.fault_percent
        )
    }
}

/// How a run goes; the default is what CI and the long run use.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Steps before the fault-free drain.
    pub steps: u64,
    /// Base probability of each fault, in percent per chance (crash points weigh it).
    pub fault_percent: u64,
    /// A bug planted in the modelled plumbing, to prove the checks catch it.
    pub mutation: Option<Mutation>,
    /// Print what happens, step by step, to stderr (to study a failing seed).
    pub trace: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { steps: 400, fault_percent: 1, mutation: None, trace: false }
    }
}

/// Runs one seed, then drains (faults off) and checks the money.
pub fn run(seed: u64, options: &Options) -> Result<Stats, Failure> {
    let mut step = 0;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_inner(seed, options, &mut step)));
    let fail = |message| Failure { seed, fault_percent: options.fault_percent, step, message };
    match outcome {
        Ok(result) => result.map_err(fail),
        Err(panic) => {
            let text =
                panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(fail(format!("panic: {}", text.unwrap_or_default())))
        }
    }
}

fn run_inner(seed: u64, options: &Options, step: &mut u64) -> Result<Stats, String> {
    let mut world = World::new(seed)?;
    world.mutation = options.mutation;
    world.fault_percent = options.fault_percent;
    world.trace = options.trace;
    while *step < options.steps {
        *step += 1;
        actions::step(&mut world)?;
        check::every_step(&world)?;
    }
    drain(&mut world)?;
    check::money(&world)?;
    Ok(world.stats)
}

/// Faults off: every event still owed is delivered, the worker settles every refund.
fn drain(world: &mut World) -> Result<(), String> {
    world.fault_percent = 0;
    for _ in 0..DRAIN_ROUNDS_MAX {
        world.now += chrono::Duration::seconds(60);
        for delivery in &mut world.stripe.deliveries {
            delivery.due = world.now;
        }
        actions::deliver_due(world)?;
        world.flush()?;
        actions::refund_pass(world)?;
        world.flush()?;
        check::every_step(world)?;
        if world.stripe.deliveries.is_empty() && check::owed_refunds(world.disk.durable().iter())?.is_empty() {
            return Ok(());
        }
    }
    Err(format!("after {DRAIN_ROUNDS_MAX} fault-free rounds a refund is still owed or an event undelivered"))
}

/// Two venues with small windows (1-4 slots), so that holds compete.
fn venues(rng: &mut rng::Rng) -> Vec<Venue> {
    let slots_per_window = 3600 / WINDOW_SECS as u64;
    (0..2)
        .map(|i| {
            let id = VenueId::parse(&format!("sim-{i}")).expect("a valid venue id");
            let schedule = Schedule::new((rng.between(1, 4) * slots_per_window) as u32, &[]).expect("a valid schedule");
            let timezone = "Europe/Berlin".parse().expect("a known time zone");
            let (price, ttl) = (rng.between(100, 2000), rng.between(30, 600) as u32);
            Venue::new(id, format!("Sim {i}"), timezone, price, "eur", ttl, schedule).expect("a valid venue")
        })
        .collect()
}
