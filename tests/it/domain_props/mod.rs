//! Properties of the pure domain (no I/O): a window never oversells, its state is exactly
//! the fold of the events it emits, every event passes the window's audit before it is
//! applied, each payment takes effect at most once, a checkout page opens at most once
//! and closes at most once, refusals change nothing, and every domain record survives
//! the codec. Random command sequences are checked against a
//! small reference model of the decision table; the table itself is also pinned by unit
//! tests.
//!
//! By subject: `model` (the reference model), `ops` (random command sequences),
//! `scripts` (the model-checked properties over them), `records` (every record round
//! trips through the codec), and the tables case by case: `decisions` (holds,
//! confirmations, cancels, capacity), `payments`, `refunds` (refund reports and what
//! refunds do to a status), `checkout` (checkout pages). This module holds the
//! fixtures they share.

mod checkout;
mod decisions;
mod model;
mod ops;
mod payments;
mod records;
mod refunds;
mod scripts;
mod waitlist;

use model::*;
use ops::*;
use payments::{owed, paid};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc, Weekday};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestRunner};
use qskip::domain::{
    Checkout, Command, HourOverride, Payment, Price, PriceHistory, RefundReason, Rejection, ReservationId,
    ReservationStatus, ReservationView, ReserveRequest, Schedule, Venue, VenueEvent, VenueId, Window, WindowEvent,
    WindowKey,
};
use qskip::store::codec;
use qskip::store::{IdempotencyEntry, IdempotentOutcome, Record};

const HOLD_TTL_MINUTES: i64 = 30;
/// The price payments are checked against: 5.00 per slot, in the venue's lowercase
/// currency.
const UNIT_MINOR: u64 = 500;
const CURRENCY: &str = "eur";
/// Who the model's operator actions are recorded as.
const OPERATOR: &str = "admin:props";

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("test timestamps are valid RFC 3339")
}

fn key() -> WindowKey {
    WindowKey::new(VenueId::parse("props-bar").unwrap(), at("2026-11-28T21:00:00Z"))
}

fn rid(n: u8) -> ReservationId {
    let mut bytes = [0x5a; 16];
    bytes[15] = n;
    ReservationId::from_bytes(bytes)
}

fn ttl() -> Duration {
    Duration::minutes(HOLD_TTL_MINUTES)
}

fn hold(id: u8, quantity: u32) -> Command {
    Command::PlaceHold { reservation_id: rid(id), quantity, hold_ttl: ttl(), email: None, waitlist_offer_secs: None }
}

fn confirm(id: u8, payment_ref: &str) -> Command {
    Command::Confirm { reservation_id: rid(id), payment_ref: payment_ref.to_owned() }
}

fn cancel(id: u8) -> Command {
    Command::Cancel { reservation_id: rid(id) }
}

fn price() -> Price {
    Price { unit_minor: UNIT_MINOR, currency: CURRENCY.into() }
}

/// A provider's payment for reservation `id`, checked against `price()`.
fn pay(id: u8, intent: &str, amount_minor: Option<u64>, currency: Option<&str>) -> Command {
    let payment = Payment { intent: intent.into(), amount_minor, currency: currency.map(Into::into) };
    Command::RecordPayment { reservation_id: rid(id), payment, prices: PriceHistory::starting(price()) }
}

/// The provider accepted the refund of `intent` (paid for reservation `id`).
fn refunded(id: u8, intent: &str, refund_id: &str) -> Command {
    let refund_ids = vec![refund_id.into()];
    Command::RecordRefund { reservation_id: rid(id), payment_intent: intent.into(), refund_ids, refunded_minor: None }
}

/// The provider's checkout page `session` (the rest of it is arbitrary but fixed).
fn page(session: &str, expires_at: DateTime<Utc>) -> Checkout {
    Checkout {
        session_id: session.into(),
        url: format!("https://checkout.stripe.com/c/pay/{session}"),
        expires_at,
        closed: false,
    }
}

fn open_checkout(id: u8, checkout: Checkout) -> Command {
    Command::OpenCheckout { reservation_id: rid(id), checkout }
}

fn close_checkout(id: u8, session: &str) -> Command {
    Command::CloseCheckout { reservation_id: rid(id), session_id: session.into() }
}

/// Folds events into a fresh window, checking the replay invariant at each grant.
fn rebuild(capacity: u32, events: &[WindowEvent]) -> Window {
    let mut window = Window::unopened(key(), capacity);
    for event in events {
        window.apply(event);
        if grants_slots(event) {
            assert!(window.committed_recorded() <= window.capacity(), "replay: oversold at {event:?}");
        }
    }
    window
}

/// Events that hand out slots: a new hold, an offer to the waitlist, or a confirmation
/// of a hold that had ended.
fn grants_slots(event: &WindowEvent) -> bool {
    matches!(
        event,
        WindowEvent::HoldPlaced { .. }
            | WindowEvent::HoldConfirmed { late: true, .. }
            | WindowEvent::WaitlistOffered { .. }
    )
}

/// A window of `capacity` with the given holds, placed 20 minutes before it starts (so
/// they expire 10 minutes into it).
fn window_with(capacity: u32, holds: &[(u8, u32)]) -> (Window, DateTime<Utc>) {
    let placed = key().start - Duration::minutes(20);
    let mut w = Window::unopened(key(), capacity);
    for &(id, quantity) in holds {
        run(&mut w, &hold(id, quantity), placed);
    }
    (w, placed)
}

fn run(w: &mut Window, command: &Command, now: DateTime<Utc>) -> Vec<WindowEvent> {
    let events = w.decide(command, now).unwrap_or_else(|r| panic!("{command:?} refused: {r}"));
    for e in &events {
        w.apply(e);
    }
    events
}
