//! The deterministic simulation (`qskip::sim`) over a bounded range of seeds, and proof
//! that its checks catch bugs planted in the modelled plumbing. The long run is
//! `cargo run --release --bin qskip-sim -- --seed 0 --seeds 10000` (README).

use qskip::sim::{self, Mutation, Options};

/// Seeds CI runs on every build (debug: ~15 s on a busy 2-core machine).
const CI_SEEDS: u64 = 50;

#[test]
fn simulated_seeds_keep_every_invariant() {
    let failures: Vec<String> =
        (0..CI_SEEDS).filter_map(|seed| sim::run(seed, &Options::default()).err()).map(|f| f.to_string()).collect();
    assert!(failures.is_empty(), "{} of {CI_SEEDS} seeds failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_seed_replays_the_same_run() {
    let (a, b) = (sim::run(7, &Options::default()), sim::run(7, &Options::default()));
    let (a, b) = (a.expect("seed 7 passes"), b.expect("seed 7 passes"));
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "the same seed must give the same run");
    assert!(a.crashes > 0 && a.refunds > 0 && a.snapshots > 0, "seed 7 exercises crashes, refunds, snapshots: {a:?}");
}

/// The first failure of a planted bug over a few seeds.
fn first_failure(mutation: Mutation) -> String {
    let failure =
        (0..40).find_map(|seed| sim::run(seed, &Options { mutation: Some(mutation), ..Options::default() }).err());
    failure.unwrap_or_else(|| panic!("no seed caught {mutation:?}")).message
}

#[test]
fn a_second_refund_is_caught() {
    let message = first_failure(Mutation::RefundWithoutLooking);
    assert!(message.contains("refunded 2 times at Stripe"), "{message}");
}

#[test]
fn an_answer_before_the_flush_is_caught() {
    let message = first_failure(Mutation::AnswerBeforeFlush);
    assert!(message.contains("acknowledged"), "{message}");
}

#[test]
fn a_dropped_refund_is_caught() {
    let message = first_failure(Mutation::DropFailedRefund);
    assert!(message.contains("still owed"), "{message}");
}

/// Regression: the refund worker made a refund for a `RefundOwed` that was written but
/// not yet flushed; a crash lost the debt and Stripe's redelivery then confirmed the
/// payment: refunded and confirmed. The worker now makes the debts durable first.
#[test]
fn a_refund_is_made_only_for_a_durable_debt() {
    let options = Options { fault_percent: 4, ..Options::default() };
    sim::run(7, &options).unwrap_or_else(|f| panic!("{f}"));
    let planted = sim::run(7, &Options { mutation: Some(Mutation::RefundUndurableDebt), ..options });
    let message = planted.expect_err("the old behaviour fails seed 7").message;
    assert!(message.contains("confirmed its reservation and was refunded"), "{message}");
}
