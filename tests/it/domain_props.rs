//! Properties of the pure domain (no I/O): a window never oversells, its state is exactly
//! the fold of the events it emits, every event passes the window's audit before it is
//! applied, each payment takes effect at most once, a checkout page opens at most once
//! and closes at most once, refusals change nothing, and every domain record survives
//! the codec. Random command sequences are checked against a
//! small reference model of the decision table; the table itself is also pinned by unit
//! tests.

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
    Command::PlaceHold { reservation_id: rid(id), quantity, hold_ttl: ttl(), email: None }
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
    Command::RecordRefund { reservation_id: rid(id), payment_intent: intent.into(), refund_id: refund_id.into() }
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

/// Events that hand out slots: a new hold, or a confirmation of a hold that had ended.
fn grants_slots(event: &WindowEvent) -> bool {
    matches!(event, WindowEvent::HoldPlaced { .. } | WindowEvent::HoldConfirmed { late: true, .. })
}

// ---------------------------------------------------------------------------------------
// Reference model: the decision table written out independently of `Window`.

#[derive(Debug, Clone)]
struct ModelRefund {
    intent: String,
    issued: bool,
}

#[derive(Debug, Clone)]
struct ModelReservation {
    quantity: u32,
    expires_at: DateTime<Utc>,
    status: ReservationStatus,
    payment_ref: Option<String>,
    refunds: Vec<ModelRefund>,
    /// The checkout page as recorded: the one opened, and whether it was closed.
    checkout: Option<Checkout>,
}

#[derive(Debug, Clone)]
struct Model {
    capacity: u32,
    opened: bool,
    reservations: BTreeMap<ReservationId, ModelReservation>,
}

impl Model {
    fn is_live(r: &ModelReservation, now: DateTime<Utc>) -> bool {
        r.status == ReservationStatus::Held && now < r.expires_at
    }

    /// The payment already took effect on `r`: it confirmed it, or a refund exists for it.
    fn has_payment(r: &ModelReservation, intent: &str) -> bool {
        r.payment_ref.as_deref() == Some(intent) || r.refunds.iter().any(|f| f.intent == intent)
    }

    fn live_held(&self, now: DateTime<Utc>) -> u32 {
        self.reservations.values().filter(|r| Self::is_live(r, now)).map(|r| r.quantity).sum()
    }

    fn confirmed(&self) -> u32 {
        let confirmed = self.reservations.values().filter(|r| r.status == ReservationStatus::Confirmed);
        confirmed.map(|r| r.quantity).sum()
    }

    fn room(&self, now: DateTime<Utc>) -> u32 {
        self.capacity.saturating_sub(self.live_held(now) + self.confirmed())
    }

    /// The checkout page the session-expiry worker must close at `now`: open, and its
    /// hold no longer live (expired, recorded or not; cancelled; or paid for).
    fn checkout_to_close(r: &ModelReservation, now: DateTime<Utc>) -> Option<&Checkout> {
        let hold_ended = match r.status {
            ReservationStatus::Held => now >= r.expires_at,
            ReservationStatus::Expired | ReservationStatus::Cancelled | ReservationStatus::Confirmed => true,
            ReservationStatus::RefundOwed | ReservationStatus::Refunded => unreachable!("never stored"),
        };
        r.checkout.as_ref().filter(|c| !c.closed && hold_ended)
    }

    /// Every refund the model knows of, owed or issued, as (reservation, intent).
    fn refunds(&self) -> Vec<(ReservationId, String)> {
        let each = self.reservations.iter().flat_map(|(id, r)| r.refunds.iter().map(|f| (*id, f.intent.clone())));
        each.collect()
    }

    /// What `decide` must answer, and (on success) the events in order.
    fn expect(&self, command: &Command, now: DateTime<Utc>) -> Result<Vec<WindowEvent>, Rejection> {
        let end = key().end();
        let mut due: Vec<_> = self
            .reservations
            .iter()
            .filter(|(_, r)| r.status == ReservationStatus::Held && r.expires_at <= now)
            .map(|(id, r)| (r.expires_at, *id))
            .collect();
        due.sort();
        let mut events: Vec<_> =
            due.into_iter().map(|(_, id)| WindowEvent::HoldExpired { reservation_id: id, expired_at: now }).collect();
        let room = self.room(now);
        match command {
            Command::PlaceHold { reservation_id, quantity, hold_ttl, email } => {
                if now >= end {
                    return Err(Rejection::WindowEnded { end });
                }
                if self.reservations.contains_key(reservation_id) {
                    return Err(Rejection::DuplicateReservation);
                }
                if *quantity > room {
                    return Err(Rejection::SoldOut { available: room });
                }
                if !self.opened {
                    events.push(WindowEvent::WindowOpened { capacity: self.capacity });
                }
                events.push(WindowEvent::HoldPlaced {
                    reservation_id: *reservation_id,
                    quantity: *quantity,
                    placed_at: now,
                    expires_at: now + *hold_ttl,
                    email: email.clone(),
                });
            }
            Command::Confirm { reservation_id, payment_ref } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let confirmed = |late| WindowEvent::HoldConfirmed {
                    reservation_id: *reservation_id,
                    payment_ref: payment_ref.clone(),
                    confirmed_at: now,
                    late,
                };
                if r.status == ReservationStatus::Confirmed {
                    if r.payment_ref.as_ref() != Some(payment_ref) {
                        return Err(Rejection::AlreadyConfirmed);
                    }
                } else if Self::is_live(r, now) {
                    events.push(confirmed(false));
                } else if now >= end {
                    return Err(Rejection::WindowEnded { end });
                } else if r.quantity > room {
                    return Err(Rejection::SoldOut { available: room });
                } else {
                    events.push(confirmed(true));
                }
            }
            Command::RecordPayment { reservation_id, payment, .. } => {
                // Scripts run with one price for all time.
                let price = price();
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                if Self::has_payment(r, &payment.intent) {
                    return Ok(events);
                }
                let due = price.unit_minor * u64::from(r.quantity);
                let wrong_amount = payment.amount_minor.is_none_or(|paid| paid != due);
                let wrong_currency = payment.currency.as_ref().is_none_or(|c| !c.eq_ignore_ascii_case(&price.currency));
                let owed = |reason| WindowEvent::RefundOwed {
                    reservation_id: *reservation_id,
                    payment_intent: payment.intent.clone(),
                    amount_minor: payment.amount_minor,
                    currency: payment.currency.clone(),
                    reason,
                    owed_at: now,
                };
                let confirmed = |late| WindowEvent::HoldConfirmed {
                    reservation_id: *reservation_id,
                    payment_ref: payment.intent.clone(),
                    confirmed_at: now,
                    late,
                };
                events.push(if wrong_amount || wrong_currency {
                    owed(RefundReason::AmountMismatch)
                } else if r.status == ReservationStatus::Confirmed {
                    owed(RefundReason::AlreadyConfirmed)
                } else if Self::is_live(r, now) {
                    confirmed(false)
                } else if now >= end {
                    owed(RefundReason::WindowEnded)
                } else if r.quantity > room {
                    owed(RefundReason::SoldOut)
                } else {
                    confirmed(true)
                });
            }
            Command::RecordRefund { reservation_id, payment_intent, refund_id } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let refund = r.refunds.iter().find(|f| &f.intent == payment_intent).ok_or(Rejection::NoRefundOwed)?;
                if !refund.issued {
                    events.push(WindowEvent::RefundIssued {
                        reservation_id: *reservation_id,
                        payment_intent: payment_intent.clone(),
                        refund_id: refund_id.clone(),
                        issued_at: now,
                    });
                }
            }
            Command::OpenCheckout { reservation_id, checkout } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match &r.checkout {
                    None => events.push(WindowEvent::CheckoutOpened {
                        reservation_id: *reservation_id,
                        checkout: Checkout { closed: false, ..checkout.clone() },
                        opened_at: now,
                    }),
                    // Open or closed, the recorded page reported again changes nothing.
                    Some(recorded) if recorded.session_id == checkout.session_id => {}
                    Some(_) => return Err(Rejection::CheckoutAlreadyOpen),
                }
            }
            Command::CloseCheckout { reservation_id, session_id } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match &r.checkout {
                    Some(recorded) if &recorded.session_id != session_id => return Err(Rejection::UnknownCheckout),
                    None => return Err(Rejection::UnknownCheckout),
                    Some(recorded) if recorded.closed => {}
                    Some(_) => events.push(WindowEvent::CheckoutClosed {
                        reservation_id: *reservation_id,
                        session_id: session_id.clone(),
                        closed_at: now,
                    }),
                }
            }
            Command::Cancel { reservation_id } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match r.status {
                    _ if Self::is_live(r, now) => {
                        events.push(WindowEvent::HoldCancelled { reservation_id: *reservation_id, cancelled_at: now })
                    }
                    ReservationStatus::Cancelled => {}
                    ReservationStatus::Held => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    status => return Err(Rejection::NotActive { status }),
                }
            }
            Command::Release { reservation_id, by } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match r.status {
                    _ if Self::is_live(r, now) => events.push(WindowEvent::HoldReleased {
                        reservation_id: *reservation_id,
                        released_at: now,
                        by: by.clone(),
                    }),
                    ReservationStatus::Cancelled => {}
                    ReservationStatus::Held => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    status => return Err(Rejection::NotActive { status }),
                }
            }
            Command::ChangeCapacity { capacity, by } => match (self.opened, *capacity == self.capacity) {
                (false, _) => return Err(Rejection::WindowNotOpened),
                (true, true) => {}
                (true, false) => {
                    events.push(WindowEvent::CapacityChanged { capacity: *capacity, changed_at: now, by: by.clone() })
                }
            },
            Command::ExpireDue => {}
        }
        Ok(events)
    }

    fn apply(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::WindowOpened { .. } => self.opened = true,
            WindowEvent::HoldPlaced { reservation_id, quantity, expires_at, .. } => {
                let r = ModelReservation {
                    quantity: *quantity,
                    expires_at: *expires_at,
                    status: ReservationStatus::Held,
                    payment_ref: None,
                    refunds: Vec::new(),
                    checkout: None,
                };
                self.reservations.insert(*reservation_id, r);
            }
            WindowEvent::HoldConfirmed { reservation_id, payment_ref, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.status = ReservationStatus::Confirmed;
                r.payment_ref = Some(payment_ref.clone());
            }
            WindowEvent::HoldCancelled { reservation_id, .. } | WindowEvent::HoldReleased { reservation_id, .. } => {
                self.reservations.get_mut(reservation_id).unwrap().status = ReservationStatus::Cancelled;
            }
            WindowEvent::CapacityChanged { capacity, .. } => self.capacity = *capacity,
            WindowEvent::HoldExpired { reservation_id, .. } => {
                self.reservations.get_mut(reservation_id).unwrap().status = ReservationStatus::Expired;
            }
            WindowEvent::RefundOwed { reservation_id, payment_intent, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.refunds.push(ModelRefund { intent: payment_intent.clone(), issued: false });
            }
            WindowEvent::RefundIssued { reservation_id, payment_intent, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.refunds.iter_mut().find(|f| &f.intent == payment_intent).unwrap().issued = true;
            }
            WindowEvent::CheckoutOpened { reservation_id, checkout, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                assert!(r.checkout.is_none(), "model: a second checkout opened");
                r.checkout = Some(checkout.clone());
            }
            WindowEvent::CheckoutClosed { reservation_id, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.checkout.as_mut().unwrap().closed = true;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Random command sequences.

/// Ids 0..6 may be held (and collide); 6 and 7 are never held, so confirming, paying or
/// cancelling them is a command on an unknown reservation.
const HOLD_IDS: u8 = 6;
const ALL_IDS: u8 = 8;
/// `Confirm`'s payment refs (the dev checkout's path).
const PAYMENT_REFS: [&str; 3] = ["pi_a", "pi_b", "pi_c"];
/// The provider's payment intents (`RecordPayment`), a small pool so that intents are
/// reported again, for the same reservation and for others. Disjoint from
/// `PAYMENT_REFS`: the two paths never share a payment in production.
const INTENTS: [&str; 5] = ["pi_0", "pi_1", "pi_2", "pi_3", "pi_4"];
const CURRENCIES: [Option<&str>; 4] = [Some("eur"), Some("EUR"), Some("usd"), None];

/// The session id a checkout command names.
#[derive(Debug, Clone)]
enum Session {
    /// The one recorded for the reservation (or `fallback` while none is).
    Recorded { fallback: String },
    /// A random one: another page than the recorded one (or the first one).
    Random(String),
}

impl Session {
    fn id(&self, model: &Model, id: u8) -> String {
        let recorded = model.reservations.get(&rid(id)).and_then(|r| r.checkout.as_ref());
        match (self, recorded) {
            (Session::Recorded { .. }, Some(c)) => c.session_id.clone(),
            (Session::Recorded { fallback: session }, None) | (Session::Random(session), _) => session.clone(),
        }
    }
}

/// The amount a random payment reports, relative to what the reservation costs.
#[derive(Debug, Clone, Copy)]
enum Amount {
    Due,
    Off(i64),
    Absent,
}

#[derive(Debug, Clone)]
enum Op {
    Hold {
        id: u8,
        quantity: u32,
        email: bool,
    },
    Confirm {
        id: u8,
        payment: usize,
    },
    Pay {
        id: u8,
        intent: usize,
        amount: Amount,
        currency: usize,
    },
    /// A refund report for any intent of any id: mostly for payments owed nothing.
    Refund {
        id: u8,
        intent: usize,
        refund: u8,
    },
    /// A refund report for the `pick`-th refund the model knows (owed or already issued).
    RefundKnown {
        pick: usize,
        refund: u8,
    },
    Cancel {
        id: u8,
    },
    /// An operator releases `id` by hand.
    Release {
        id: u8,
    },
    /// An operator's schedule change gives the window this capacity.
    ChangeCapacity {
        capacity: u32,
    },
    /// The provider's page for `id`, payable until `expires_in` minutes from now;
    /// `closed` is what the caller claims, which the event must not take over.
    OpenCheckout {
        id: u8,
        session: Session,
        expires_in: i64,
        closed: bool,
    },
    CloseCheckout {
        id: u8,
        session: Session,
    },
    ExpireDue,
}

impl Op {
    /// The command this op is now; amounts and known refunds depend on the state so far.
    fn command(&self, model: &Model, now: DateTime<Utc>) -> Command {
        match *self {
            Op::Hold { id, quantity, email } => Command::PlaceHold {
                reservation_id: rid(id),
                quantity,
                hold_ttl: ttl(),
                email: email.then(|| format!("guest{id}@example.com")),
            },
            Op::Confirm { id, payment } => confirm(id, PAYMENT_REFS[payment]),
            Op::Pay { id, intent, amount, currency } => {
                let quantity = model.reservations.get(&rid(id)).map_or(1, |r| r.quantity);
                let due = UNIT_MINOR * u64::from(quantity);
                let amount_minor = match amount {
                    Amount::Due => Some(due),
                    Amount::Off(delta) => Some(due.checked_add_signed(delta).unwrap()),
                    Amount::Absent => None,
                };
                pay(id, INTENTS[intent], amount_minor, CURRENCIES[currency])
            }
            Op::Refund { id, intent, refund } => refunded(id, INTENTS[intent], &format!("re_{refund}")),
            Op::RefundKnown { pick, refund } => match model.refunds() {
                known if known.is_empty() => refunded(0, INTENTS[0], &format!("re_{refund}")),
                known => {
                    let (reservation_id, payment_intent) = known[pick % known.len()].clone();
                    Command::RecordRefund { reservation_id, payment_intent, refund_id: format!("re_{refund}") }
                }
            },
            Op::Cancel { id } => cancel(id),
            Op::Release { id } => Command::Release { reservation_id: rid(id), by: OPERATOR.into() },
            Op::ChangeCapacity { capacity } => Command::ChangeCapacity { capacity, by: OPERATOR.into() },
            Op::OpenCheckout { id, ref session, expires_in, closed } => {
                let checkout = Checkout { closed, ..page(&session.id(model, id), now + Duration::minutes(expires_in)) };
                open_checkout(id, checkout)
            }
            Op::CloseCheckout { id, ref session } => close_checkout(id, &session.id(model, id)),
            Op::ExpireDue => Command::ExpireDue,
        }
    }
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        3 => Just(Amount::Due),
        1 => prop::sample::select(vec![-500i64, -1, 1, 500, 1_000_000]).prop_map(Amount::Off),
        1 => Just(Amount::Absent),
    ]
}

fn currency() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)]
}

/// Random session ids, from a pool small enough that two reservations share one.
fn any_session_id() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(vec!["cs_test_0", "cs_test_1"]).prop_map(String::from),
        2 => "cs_test_[a-zA-Z0-9]{1,24}",
    ]
}

fn session() -> impl Strategy<Value = Session> {
    prop_oneof![
        3 => any_session_id().prop_map(|fallback| Session::Recorded { fallback }),
        1 => any_session_id().prop_map(Session::Random),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..HOLD_IDS, 1..=4u32, any::<bool>()).prop_map(|(id, quantity, email)| Op::Hold { id, quantity, email }),
        2 => (0..ALL_IDS, 0..PAYMENT_REFS.len()).prop_map(|(id, payment)| Op::Confirm { id, payment }),
        4 => (0..ALL_IDS, 0..INTENTS.len(), amount(), currency())
            .prop_map(|(id, intent, amount, currency)| Op::Pay { id, intent, amount, currency }),
        1 => (0..ALL_IDS, 0..INTENTS.len(), 0..3u8).prop_map(|(id, intent, refund)| Op::Refund { id, intent, refund }),
        2 => (any::<usize>(), 0..3u8).prop_map(|(pick, refund)| Op::RefundKnown { pick, refund }),
        1 => (0..ALL_IDS).prop_map(|id| Op::Cancel { id }),
        1 => (0..ALL_IDS).prop_map(|id| Op::Release { id }),
        1 => (0..=12u32).prop_map(|capacity| Op::ChangeCapacity { capacity }),
        2 => (0..ALL_IDS, session(), 30..=24 * 60i64, any::<bool>())
            .prop_map(|(id, session, expires_in, closed)| Op::OpenCheckout { id, session, expires_in, closed }),
        3 => (0..ALL_IDS, session()).prop_map(|(id, session)| Op::CloseCheckout { id, session }),
        1 => Just(Op::ExpireDue),
    ]
}

/// Time between two commands, 0..=40 minutes: often a few whole minutes (so that many
/// commands fall before the window ends and `now == expires_at` happens), sometimes any
/// number of microseconds.
fn step() -> impl Strategy<Value = Duration> {
    prop_oneof![
        6 => (0..=3i64).prop_map(Duration::minutes),
        1 => (0..=40i64).prop_map(Duration::minutes),
        1 => (0..=40 * 60 * 1_000_000i64).prop_map(Duration::microseconds),
    ]
}

/// A window's capacity, how many minutes before its start the script begins, and the
/// script: commands with the time that passes before each.
type Script = (u32, i64, Vec<(Duration, Op)>);

fn script() -> impl Strategy<Value = Script> {
    (0..=12u32, 0..=150i64, prop::collection::vec((step(), op()), 1..60))
}

/// What one decision came to, named for the coverage check.
fn outcome(command: &Command, decided: &Result<Vec<WindowEvent>, Rejection>) -> &'static str {
    let last_effect =
        |events: &[WindowEvent]| events.iter().rfind(|e| !matches!(e, WindowEvent::HoldExpired { .. })).cloned();
    match (command, decided) {
        (Command::RecordPayment { .. }, Err(Rejection::UnknownReservation)) => "payment: unknown reservation",
        (Command::RecordRefund { .. }, Err(Rejection::UnknownReservation)) => "refund: unknown reservation",
        (Command::RecordRefund { .. }, Err(Rejection::NoRefundOwed)) => "refund: none owed",
        (Command::RecordPayment { .. }, Ok(events)) => match last_effect(events) {
            None => "payment: again",
            Some(WindowEvent::HoldConfirmed { late: false, .. }) => "payment: confirmed",
            Some(WindowEvent::HoldConfirmed { late: true, .. }) => "payment: confirmed late",
            Some(WindowEvent::RefundOwed { reason, .. }) => match reason {
                RefundReason::SoldOut => "payment: refund sold_out",
                RefundReason::WindowEnded => "payment: refund window_ended",
                RefundReason::AlreadyConfirmed => "payment: refund already_confirmed",
                RefundReason::AmountMismatch => "payment: refund amount_mismatch",
            },
            Some(_) => "payment: other event",
        },
        (Command::RecordRefund { .. }, Ok(events)) => match last_effect(events) {
            None => "refund: again",
            Some(WindowEvent::RefundIssued { .. }) => "refund: issued",
            Some(_) => "refund: other event",
        },
        (Command::OpenCheckout { .. }, Err(Rejection::UnknownReservation)) => "open checkout: unknown reservation",
        (Command::OpenCheckout { .. }, Err(Rejection::CheckoutAlreadyOpen)) => "open checkout: another one recorded",
        (Command::OpenCheckout { .. }, Ok(events)) => match last_effect(events) {
            None => "open checkout: again",
            Some(WindowEvent::CheckoutOpened { .. }) => "open checkout: opened",
            Some(_) => "open checkout: other event",
        },
        (Command::CloseCheckout { .. }, Err(Rejection::UnknownReservation)) => "close checkout: unknown reservation",
        (Command::CloseCheckout { .. }, Err(Rejection::UnknownCheckout)) => "close checkout: unknown checkout",
        (Command::CloseCheckout { .. }, Ok(events)) => match last_effect(events) {
            None => "close checkout: again",
            Some(WindowEvent::CheckoutClosed { .. }) => "close checkout: closed",
            Some(_) => "close checkout: other event",
        },
        (Command::ChangeCapacity { .. }, Err(Rejection::WindowNotOpened)) => "capacity: window not opened",
        (Command::ChangeCapacity { .. }, Ok(events)) => match last_effect(events) {
            Some(WindowEvent::CapacityChanged { .. }) => "capacity: changed",
            _ => "capacity: unchanged",
        },
        (Command::Release { .. }, Ok(events)) => match last_effect(events) {
            Some(WindowEvent::HoldReleased { .. }) => "release: released",
            _ => "release: again",
        },
        (_, Ok(_)) => "other: ok",
        (_, Err(_)) => "other: refused",
    }
}

/// Runs one script against `Window` and the model, checking every property after every
/// command; returns the outcomes it reached.
fn check_script((capacity, lead_minutes, script): Script) -> Result<BTreeSet<&'static str>, TestCaseError> {
    let mut window = Window::unopened(key(), capacity);
    let mut model = Model { capacity, opened: false, reservations: BTreeMap::new() };
    let mut log: Vec<WindowEvent> = Vec::new();
    let mut now = key().start - Duration::minutes(lead_minutes);
    let mut outcomes = BTreeSet::new();
    // Payments that took effect (HoldConfirmed or RefundOwed), and refunds issued.
    let mut took_effect: BTreeSet<(ReservationId, String)> = BTreeSet::new();
    let mut issued: BTreeSet<(ReservationId, String)> = BTreeSet::new();
    // Reservations whose checkout page opened, and whose page closed.
    let mut checkouts_opened: BTreeSet<ReservationId> = BTreeSet::new();
    let mut checkouts_closed: BTreeSet<ReservationId> = BTreeSet::new();

    for (delta, op) in script {
        now += delta;

        // Expired holds free their slots at once, before any HoldExpired is written.
        let counts = window.counts_at(now);
        let live: u32 = window.reservations().filter(|r| r.is_live_hold(now)).map(|r| r.quantity).sum();
        let live_by_hand: u32 = window
            .reservations()
            .filter(|r| r.status == ReservationStatus::Held && now < r.expires_at)
            .map(|r| r.quantity)
            .sum();
        prop_assert_eq!(counts.held, live);
        prop_assert_eq!(counts.held, live_by_hand);
        prop_assert_eq!(counts.held, model.live_held(now));
        prop_assert_eq!(counts.confirmed, model.confirmed());
        // Only an operator's capacity cut can leave more committed than capacity, and
        // then the window says so and has nothing available.
        prop_assert_eq!(counts.capacity, model.capacity);
        prop_assert_eq!(counts.overcommitted, counts.held + counts.confirmed > model.capacity);
        prop_assert_eq!(counts.available, model.capacity.saturating_sub(counts.held + counts.confirmed));

        let command = op.command(&model, now);
        let before = window.clone();
        let paid_before = match &command {
            Command::RecordPayment { reservation_id, payment, .. } => {
                model.reservations.get(reservation_id).map(|r| Model::has_payment(r, &payment.intent))
            }
            _ => None,
        };
        let expected = model.expect(&command, now);
        let decided = window.decide(&command, now);
        prop_assert_eq!(&decided, &expected, "{:?} at {}", command, now);
        outcomes.insert(outcome(&command, &decided));
        if counts.overcommitted && matches!(command, Command::PlaceHold { .. }) {
            prop_assert!(decided.is_err(), "an overcommitted window granted a hold: {decided:?}");
            outcomes.insert("hold: refused while overcommitted");
        }

        match decided {
            Err(rejection) => {
                // A refusal emits nothing; nothing is applied, so nothing changes.
                prop_assert_eq!(&window, &before);
                // Money that was taken is never refused: only a payment for no
                // reservation at all is.
                if matches!(command, Command::RecordPayment { .. }) {
                    prop_assert_eq!(&rejection, &Rejection::UnknownReservation);
                }
                match command {
                    Command::OpenCheckout { .. } => prop_assert!(
                        matches!(rejection, Rejection::UnknownReservation | Rejection::CheckoutAlreadyOpen),
                        "open checkout refused with {:?}",
                        rejection
                    ),
                    Command::CloseCheckout { .. } => prop_assert!(
                        matches!(rejection, Rejection::UnknownReservation | Rejection::UnknownCheckout),
                        "close checkout refused with {:?}",
                        rejection
                    ),
                    _ => {}
                }
            }
            Ok(events) => {
                for event in &events {
                    // The audit (the actor's and the replay tool's check) accepts every
                    // event `decide` emits, in the state it is applied to.
                    prop_assert_eq!(window.audit(event), Ok(()), "audit refused {:?} from {:?}", event, command);
                    match event {
                        WindowEvent::HoldConfirmed { reservation_id, payment_ref: intent, .. }
                        | WindowEvent::RefundOwed { reservation_id, payment_intent: intent, .. } => {
                            let first = took_effect.insert((*reservation_id, intent.clone()));
                            prop_assert!(
                                first,
                                "payment {} took effect twice on {}: {:?}",
                                intent,
                                reservation_id,
                                event
                            );
                        }
                        WindowEvent::RefundIssued { reservation_id, payment_intent, .. } => {
                            let paid = (*reservation_id, payment_intent.clone());
                            prop_assert!(
                                took_effect.contains(&paid),
                                "refund issued for an unknown payment: {event:?}"
                            );
                            prop_assert!(issued.insert(paid), "refund issued twice: {event:?}");
                        }
                        WindowEvent::CheckoutOpened { reservation_id, checkout, .. } => {
                            prop_assert!(!checkout.closed, "a page opened closed: {:?}", event);
                            prop_assert!(
                                checkouts_opened.insert(*reservation_id),
                                "a second checkout opened: {:?}",
                                event
                            );
                        }
                        WindowEvent::CheckoutClosed { reservation_id, session_id, .. } => {
                            let recorded = window.reservation(reservation_id).and_then(|r| r.checkout.as_ref());
                            prop_assert_eq!(recorded.map(|c| &c.session_id), Some(session_id), "{:?}", event);
                            prop_assert!(
                                checkouts_closed.insert(*reservation_id),
                                "a checkout closed twice: {:?}",
                                event
                            );
                        }
                        _ => {}
                    }
                    window.apply(event);
                    model.apply(event);
                    log.push(event.clone());
                    if grants_slots(event) {
                        // Against the capacity in force at the grant (an operator may
                        // have changed it since the window opened).
                        prop_assert!(
                            window.committed_recorded() <= window.capacity(),
                            "oversold by {event:?}: committed {} > capacity {}",
                            window.committed_recorded(),
                            window.capacity()
                        );
                    }
                }
                let effects: Vec<_> = events.iter().filter(|e| !matches!(e, WindowEvent::HoldExpired { .. })).collect();
                // The same payment delivered again confirms nothing and changes
                // nothing about that reservation (due expiries of others may be written).
                if let Command::Confirm { reservation_id, payment_ref } = &command {
                    let prior = before.reservation(reservation_id).unwrap();
                    if prior.status == ReservationStatus::Confirmed {
                        prop_assert_eq!(prior.payment_ref.as_ref(), Some(payment_ref));
                        prop_assert!(effects.is_empty(), "duplicate payment emitted {:?}", events);
                        prop_assert_eq!(window.reservation(reservation_id), Some(prior));
                    }
                }
                // A provider's payment is answered once: a new one with exactly one
                // confirmation or refund, one seen before with nothing (its reservation's
                // own due expiry aside).
                if let Command::RecordPayment { reservation_id, payment, .. } = &command {
                    let prior = before.reservation(reservation_id).unwrap();
                    let after = window.reservation(reservation_id).unwrap();
                    if paid_before == Some(true) {
                        prop_assert!(effects.is_empty(), "payment again emitted {:?}", events);
                        prop_assert_eq!(&after.payment_ref, &prior.payment_ref);
                        prop_assert_eq!(&after.refunds, &prior.refunds);
                    } else {
                        prop_assert_eq!(effects.len(), 1, "payment answered with {:?}", events);
                        prop_assert!(after.has_payment(&payment.intent));
                    }
                }
                // A checkout command answered without its event changes nothing about
                // that reservation but its own due expiry.
                if let Command::OpenCheckout { reservation_id, .. } | Command::CloseCheckout { reservation_id, .. } =
                    &command
                {
                    let prior = before.reservation(reservation_id).unwrap();
                    let after = window.reservation(reservation_id).unwrap();
                    prop_assert!(effects.len() <= 1, "checkout answered with {:?}", events);
                    if effects.is_empty() {
                        prop_assert_eq!(&after.checkout, &prior.checkout);
                    }
                }
                // After any decision, no hold past its expiry is still recorded as held.
                prop_assert!(window.reservations().all(|r| r.status != ReservationStatus::Held || now < r.expires_at));
                prop_assert!(window.earliest_expiry().is_none_or(|e| e > now));
            }
        }

        let counts = window.counts_at(now);
        prop_assert!(
            counts.overcommitted || counts.held + counts.confirmed <= counts.capacity,
            "counts oversold: {counts:?}"
        );
        prop_assert_eq!(window.reservations().count(), model.reservations.len());
        for (id, r) in &model.reservations {
            let live = window.reservation(id).unwrap();
            prop_assert_eq!(live.status, r.status);
            prop_assert_eq!(live.payment_ref.as_ref(), r.payment_ref.as_ref());
            let refunds: Vec<_> =
                live.refunds.iter().map(|f| (f.payment_intent.as_str(), f.refund_id.is_some())).collect();
            let expected: Vec<_> = r.refunds.iter().map(|f| (f.intent.as_str(), f.issued)).collect();
            prop_assert_eq!(refunds, expected);
            prop_assert_eq!(&live.checkout, &r.checkout, "checkout of {}", id);
            prop_assert_eq!(live.checkout_to_close(now), Model::checkout_to_close(r, now), "{} at {}", id, now);
            let view = ReservationView::of(&key(), live, now);
            prop_assert_eq!(view.checkout_to_close, Model::checkout_to_close(r, now).is_some());
            prop_assert_eq!(&view.checkout, &r.checkout);

            // What the customer sees: confirmed stays confirmed whatever else was paid;
            // a reservation paid for without a slot is refund_owed until every refund
            // is issued, then refunded.
            let public = live.public_status_at(now);
            let expected = if r.status == ReservationStatus::Confirmed {
                ReservationStatus::Confirmed
            } else if r.refunds.iter().any(|f| !f.issued) {
                ReservationStatus::RefundOwed
            } else if !r.refunds.is_empty() {
                ReservationStatus::Refunded
            } else if r.status == ReservationStatus::Held && now >= r.expires_at {
                ReservationStatus::Expired
            } else {
                r.status
            };
            prop_assert_eq!(public, expected, "public status of {} at {}", id, now);
            prop_assert_eq!(ReservationView::of(&key(), live, now).status, expected);
        }
        prop_assert_eq!(&rebuild(capacity, &log), &window, "rebuilt window differs from the live one");
    }
    Ok(outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_window_never_oversells_and_is_the_fold_of_its_events(script in script()) {
        check_script(script)?;
    }

    #[test]
    fn every_domain_record_round_trips_through_the_codec(
        recorded_at in any_time(),
        record in any_record(),
    ) {
        let bytes = codec::encode(recorded_at, &record);
        prop_assert_eq!(codec::decode(&bytes), Ok((recorded_at, record)));
        let wire = codec::decode_stored(&bytes).unwrap();
        prop_assert_eq!(codec::encode_stored(&wire), bytes);
    }
}

/// The random scripts are not vacuous: over a fixed sample they reach every row of the
/// payment and checkout tables, and both answers to a repeated report.
#[test]
fn the_random_scripts_reach_every_payment_outcome() {
    let mut runner = TestRunner::deterministic();
    let strategy = script();
    let mut reached = BTreeSet::new();
    for _ in 0..200 {
        let script = strategy.new_tree(&mut runner).unwrap().current();
        reached.extend(check_script(script).unwrap());
    }
    for outcome in [
        "payment: unknown reservation",
        "payment: again",
        "payment: confirmed",
        "payment: confirmed late",
        "payment: refund sold_out",
        "payment: refund window_ended",
        "payment: refund already_confirmed",
        "payment: refund amount_mismatch",
        "refund: unknown reservation",
        "refund: none owed",
        "refund: issued",
        "refund: again",
        "open checkout: unknown reservation",
        "open checkout: another one recorded",
        "open checkout: opened",
        "open checkout: again",
        "close checkout: unknown reservation",
        "close checkout: unknown checkout",
        "close checkout: closed",
        "close checkout: again",
        "capacity: window not opened",
        "capacity: changed",
        "capacity: unchanged",
        "release: released",
        "hold: refused while overcommitted",
    ] {
        assert!(reached.contains(outcome), "no script reached {outcome:?}; reached {reached:?}");
    }
    for other in
        ["payment: other event", "refund: other event", "open checkout: other event", "close checkout: other event"]
    {
        assert!(!reached.contains(other), "{reached:?}");
    }
}
// ---------------------------------------------------------------------------------------
// Generators of domain records.

/// 1900-01-01 .. 2200-01-01, in microseconds: negative times (zigzag) included.
fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    (-2_208_988_800_000_000i64..7_258_118_400_000_000).prop_map(|us| DateTime::from_timestamp_micros(us).unwrap())
}

fn any_window_start() -> impl Strategy<Value = DateTime<Utc>> {
    (-2_454_432i64..8_064_576).prop_map(|n| DateTime::from_timestamp(n * 900, 0).unwrap())
}

fn any_venue_id() -> impl Strategy<Value = VenueId> {
    "[a-z0-9_-]{1,64}".prop_map(|s| VenueId::parse(&s).unwrap())
}

fn any_key() -> impl Strategy<Value = WindowKey> {
    (any_venue_id(), any_window_start()).prop_map(|(v, s)| WindowKey::new(v, s))
}

fn any_rid() -> impl Strategy<Value = ReservationId> {
    any::<[u8; 16]>().prop_map(ReservationId::from_bytes)
}

fn any_email() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z0-9.+]{1,40}@[a-zé0-9.-]{1,60}")
}

fn any_weekday() -> impl Strategy<Value = Weekday> {
    (0..7u8).prop_map(|n| Weekday::try_from(n).unwrap())
}

fn any_venue() -> impl Strategy<Value = Venue> {
    let zones = prop::sample::select(vec![
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Asia::Kathmandu,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::UTC,
    ]);
    let overrides = prop::collection::vec(
        (any_weekday(), 0..=23u8, 0..=100_000u32).prop_map(|(weekday, hour, slots_per_hour)| HourOverride {
            weekday,
            hour,
            slots_per_hour,
        }),
        0..12,
    );
    (
        any_venue_id(),
        "\\PC{1,50}",
        zones,
        0..=qskip::limits::PRICE_MINOR_MAX,
        "[a-zA-Z]{3}",
        1..=86_400u32,
        0..=100_000u32,
        overrides,
    )
        .prop_map(|(id, name, tz, price, currency, ttl, default, overrides)| {
            let schedule = Schedule::new(default, &overrides).unwrap();
            Venue::new(id, name, tz, price, &currency, ttl, schedule).unwrap()
        })
}

fn any_window_event() -> impl Strategy<Value = WindowEvent> {
    prop_oneof![
        any::<u32>().prop_map(|capacity| WindowEvent::WindowOpened { capacity }),
        (any_rid(), any::<u32>(), any_time(), any_time(), any_email()).prop_map(
            |(reservation_id, quantity, placed_at, expires_at, email)| WindowEvent::HoldPlaced {
                reservation_id,
                quantity,
                placed_at,
                expires_at,
                email
            }
        ),
        (any_rid(), "\\PC{0,80}", any_time(), any::<bool>()).prop_map(
            |(reservation_id, payment_ref, confirmed_at, late)| WindowEvent::HoldConfirmed {
                reservation_id,
                payment_ref,
                confirmed_at,
                late
            }
        ),
        (any_rid(), any_time())
            .prop_map(|(reservation_id, cancelled_at)| WindowEvent::HoldCancelled { reservation_id, cancelled_at }),
        (any_rid(), any_time())
            .prop_map(|(reservation_id, expired_at)| WindowEvent::HoldExpired { reservation_id, expired_at }),
        (
            any_rid(),
            "\\PC{0,80}",
            prop::option::of(any::<u64>()),
            prop::option::of("\\PC{0,8}"),
            any_refund_reason(),
            any_time()
        )
            .prop_map(|(reservation_id, payment_intent, amount_minor, currency, reason, owed_at)| {
                WindowEvent::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, owed_at }
            }),
        (any_rid(), "\\PC{0,80}", "\\PC{0,80}", any_time()).prop_map(
            |(reservation_id, payment_intent, refund_id, issued_at)| WindowEvent::RefundIssued {
                reservation_id,
                payment_intent,
                refund_id,
                issued_at
            }
        ),
        // `closed` is not on the wire: a page is open when it opens, so always false.
        (any_rid(), "\\PC{0,80}", "\\PC{0,200}", any_time(), any_time()).prop_map(
            |(reservation_id, session_id, url, expires_at, opened_at)| WindowEvent::CheckoutOpened {
                reservation_id,
                checkout: Checkout { session_id, url, expires_at, closed: false },
                opened_at
            }
        ),
        (any_rid(), "\\PC{0,80}", any_time()).prop_map(|(reservation_id, session_id, closed_at)| {
            WindowEvent::CheckoutClosed { reservation_id, session_id, closed_at }
        }),
    ]
}

fn any_refund_reason() -> impl Strategy<Value = RefundReason> {
    prop::sample::select(vec![
        RefundReason::SoldOut,
        RefundReason::WindowEnded,
        RefundReason::AlreadyConfirmed,
        RefundReason::AmountMismatch,
    ])
}

fn any_idempotency() -> impl Strategy<Value = IdempotencyEntry> {
    let outcome = prop_oneof![
        (any_key(), any_rid())
            .prop_map(|(window, reservation_id)| IdempotentOutcome::Reserved { window, reservation_id }),
        any::<u32>().prop_map(|available| IdempotentOutcome::SoldOut { available }),
    ];
    ("[ -~]{1,255}", any_venue_id(), prop::option::of(any::<u32>()), prop::option::of(any_time()), any_email(), outcome)
        .prop_map(|(key, venue_id, quantity, window_start, email, outcome)| IdempotencyEntry {
            key,
            venue_id,
            request: ReserveRequest { quantity, window_start, email },
            outcome,
        })
}

fn any_record() -> impl Strategy<Value = Record> {
    prop_oneof![
        any_venue().prop_map(|v| Record::Venue(VenueEvent::VenueRegistered(v))),
        (any_key(), any_window_event()).prop_map(|(k, e)| Record::Window(k, e)),
        any_idempotency().prop_map(Record::Idempotency),
    ]
}

// ---------------------------------------------------------------------------------------
// The decision table, case by case.

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

#[test]
fn confirming_a_live_hold_is_not_late() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(5);
    let events = run(&mut w, &confirm(1, "pi_1"), now);
    assert_eq!(
        events,
        [WindowEvent::HoldConfirmed {
            reservation_id: rid(1),
            payment_ref: "pi_1".into(),
            confirmed_at: now,
            late: false
        }]
    );
    assert_eq!(w.counts_at(now).confirmed, 2);
    assert_eq!(w.counts_at(now).held, 0);
}

#[test]
fn confirming_after_expiry_with_room_is_late() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + ttl() + Duration::seconds(1);
    let events = run(&mut w, &confirm(1, "pi_1"), now);
    assert_eq!(
        events,
        [
            WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: now },
            WindowEvent::HoldConfirmed {
                reservation_id: rid(1),
                payment_ref: "pi_1".into(),
                confirmed_at: now,
                late: true
            },
        ]
    );
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Confirmed);
    assert_eq!(w.counts_at(now).confirmed, 2);
}

#[test]
fn the_moment_of_expiry_already_counts_as_expired() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    let expiry = placed + ttl();
    assert_eq!(w.counts_at(expiry - Duration::microseconds(1)).held, 2);
    assert_eq!(w.counts_at(expiry).held, 0);
    assert_eq!(w.counts_at(expiry).available, 4);
    let events = w.decide(&confirm(1, "pi_1"), expiry).unwrap();
    assert!(matches!(events.last(), Some(WindowEvent::HoldConfirmed { late: true, .. })));
}

#[test]
fn confirming_after_expiry_without_room_is_sold_out() {
    let (mut w, placed) = window_with(3, &[(1, 2)]);
    let later = placed + ttl() + Duration::seconds(1);
    run(&mut w, &hold(2, 2), later); // takes the slots the expired hold freed
    let now = later + Duration::seconds(1);
    assert_eq!(w.decide(&confirm(1, "pi_1"), now), Err(Rejection::SoldOut { available: 1 }));
}

#[test]
fn confirming_an_expired_hold_after_the_window_ended_is_refused() {
    let (w, _) = window_with(3, &[(1, 2)]);
    let now = key().end() + Duration::minutes(10);
    assert_eq!(w.decide(&confirm(1, "pi_1"), now), Err(Rejection::WindowEnded { end: key().end() }));
}

#[test]
fn a_live_hold_can_be_paid_after_the_window_started_or_ended() {
    let placed = key().end() - Duration::minutes(1);
    let mut w = Window::unopened(key(), 3);
    run(&mut w, &hold(1, 1), placed);
    let events = run(&mut w, &confirm(1, "pi_1"), key().end() + Duration::minutes(5));
    assert!(matches!(events[..], [WindowEvent::HoldConfirmed { late: false, .. }]));
}

#[test]
fn the_same_payment_twice_emits_nothing() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &confirm(1, "pi_1"), placed + Duration::minutes(1));
    let before = w.clone();
    assert_eq!(w.decide(&confirm(1, "pi_1"), placed + Duration::minutes(2)), Ok(vec![]));
    // Even long after every expiry and the end of the window.
    assert_eq!(w.decide(&confirm(1, "pi_1"), key().end() + Duration::days(3)), Ok(vec![]));
    assert_eq!(w, before);
}

#[test]
fn another_payment_after_confirmation_is_already_confirmed() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &confirm(1, "pi_1"), placed + Duration::minutes(1));
    assert_eq!(w.decide(&confirm(1, "pi_2"), placed + Duration::minutes(2)), Err(Rejection::AlreadyConfirmed));
}

#[test]
fn confirming_an_unknown_reservation_is_refused() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    assert_eq!(w.decide(&confirm(9, "pi_1"), placed), Err(Rejection::UnknownReservation));
    assert_eq!(w.decide(&cancel(9), placed), Err(Rejection::UnknownReservation));
}

#[test]
fn cancelling_an_expired_hold_is_not_active() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let after = placed + ttl();
    // Before HoldExpired is written ...
    assert_eq!(w.decide(&cancel(1), after), Err(Rejection::NotActive { status: ReservationStatus::Expired }));
    // ... and after.
    run(&mut w, &Command::ExpireDue, after);
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Expired);
    assert_eq!(w.decide(&cancel(1), after), Err(Rejection::NotActive { status: ReservationStatus::Expired }));
}

#[test]
fn cancelling_frees_the_slots_and_is_idempotent() {
    let (mut w, placed) = window_with(2, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    assert_eq!(w.decide(&hold(2, 1), now), Err(Rejection::SoldOut { available: 0 }));
    run(&mut w, &cancel(1), now);
    assert_eq!(w.counts_at(now).available, 2);
    assert_eq!(w.decide(&cancel(1), now), Ok(vec![]));
    run(&mut w, &hold(2, 2), now);
}

#[test]
fn cancelling_a_confirmed_reservation_is_not_active() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &confirm(1, "pi_1"), placed);
    assert_eq!(w.decide(&cancel(1), placed), Err(Rejection::NotActive { status: ReservationStatus::Confirmed }));
}

#[test]
fn a_hold_beyond_capacity_is_sold_out_with_what_is_left() {
    let (w, placed) = window_with(5, &[(1, 2)]);
    assert_eq!(w.decide(&hold(2, 4), placed), Err(Rejection::SoldOut { available: 3 }));
    assert!(w.decide(&hold(2, 3), placed).is_ok());
    let empty = Window::unopened(key(), 0);
    assert_eq!(empty.decide(&hold(1, 1), placed), Err(Rejection::SoldOut { available: 0 }));
}

#[test]
fn a_capacity_cut_keeps_every_hold_and_refuses_new_ones_until_the_window_drains() {
    let (mut w, placed) = window_with(6, &[(1, 2), (2, 3)]);
    run(&mut w, &confirm(1, "pi_1"), placed);
    let by = || "admin:ana".to_owned();
    let events = run(&mut w, &Command::ChangeCapacity { capacity: 3, by: by() }, placed);
    assert_eq!(events, vec![WindowEvent::CapacityChanged { capacity: 3, changed_at: placed, by: by() }]);
    let counts = w.counts_at(placed);
    assert_eq!((counts.capacity, counts.confirmed, counts.held, counts.available), (3, 2, 3, 0));
    assert!(counts.overcommitted);
    assert_eq!(w.decide(&hold(3, 1), placed), Err(Rejection::SoldOut { available: 0 }));
    // Releasing the other hold drains it below capacity: one slot is free again.
    let released = run(&mut w, &Command::Release { reservation_id: rid(2), by: by() }, placed);
    assert_eq!(released, vec![WindowEvent::HoldReleased { reservation_id: rid(2), released_at: placed, by: by() }]);
    assert_eq!(w.reservation(&rid(2)).unwrap().status, ReservationStatus::Cancelled);
    assert!(!w.counts_at(placed).overcommitted);
    assert_eq!(run(&mut w, &Command::Release { reservation_id: rid(2), by: by() }, placed), vec![]);
    assert!(w.decide(&hold(3, 1), placed).is_ok());
    assert_eq!(w.decide(&hold(3, 2), placed), Err(Rejection::SoldOut { available: 1 }));
    // The same capacity again records nothing; a confirmed one cannot be released.
    assert_eq!(run(&mut w, &Command::ChangeCapacity { capacity: 3, by: by() }, placed), vec![]);
    let refused = w.decide(&Command::Release { reservation_id: rid(1), by: by() }, placed);
    assert_eq!(refused, Err(Rejection::NotActive { status: ReservationStatus::Confirmed }));
}

#[test]
fn an_unopened_window_takes_a_new_capacity_without_an_event() {
    let mut w = Window::unopened(key(), 5);
    let change = Command::ChangeCapacity { capacity: 2, by: "admin:ana".into() };
    assert_eq!(w.decide(&change, key().start), Err(Rejection::WindowNotOpened));
    w.reschedule_unopened(2);
    let events = run(&mut w, &hold(1, 1), key().start);
    assert_eq!(events[0], WindowEvent::WindowOpened { capacity: 2 });
}

#[test]
fn a_hold_after_the_window_ended_is_refused() {
    let w = Window::unopened(key(), 5);
    let end = key().end();
    assert_eq!(w.decide(&hold(1, 1), end), Err(Rejection::WindowEnded { end }));
    assert!(w.decide(&hold(1, 1), end - Duration::microseconds(1)).is_ok());
}

#[test]
fn a_hold_reusing_an_id_is_a_duplicate_even_after_it_expired() {
    let (w, placed) = window_with(5, &[(1, 1)]);
    assert_eq!(w.decide(&hold(1, 1), placed), Err(Rejection::DuplicateReservation));
    assert_eq!(w.decide(&hold(1, 1), placed + ttl() + Duration::seconds(1)), Err(Rejection::DuplicateReservation));
}

#[test]
fn a_hold_quantity_out_of_bounds_is_refused() {
    let w = Window::unopened(key(), 1000);
    let now = key().start;
    assert!(matches!(w.decide(&hold(1, 0), now), Err(Rejection::InvalidQuantity { got: 0, .. })));
    let max = qskip::limits::RESERVATION_QUANTITY_MAX;
    assert!(matches!(w.decide(&hold(1, max + 1), now), Err(Rejection::InvalidQuantity { .. })));
    assert!(w.decide(&hold(1, max), now).is_ok());
}

#[test]
fn the_first_hold_opens_the_window_with_its_capacity() {
    let mut w = Window::unopened(key(), 7);
    let now = key().start;
    let events = run(&mut w, &hold(1, 1), now);
    assert_eq!(events[0], WindowEvent::WindowOpened { capacity: 7 });
    assert!(w.is_opened());
    let events = run(&mut w, &hold(2, 1), now);
    assert!(matches!(events[..], [WindowEvent::HoldPlaced { .. }]));
}

#[test]
fn every_decision_first_expires_due_holds_in_expiry_order() {
    let mut w = Window::unopened(key(), 10);
    let t0 = key().start - Duration::hours(2);
    run(&mut w, &hold(3, 1), t0);
    run(&mut w, &hold(1, 1), t0 + Duration::minutes(1));
    run(&mut w, &hold(2, 1), t0 + Duration::minutes(2));
    let now = t0 + Duration::hours(1);
    let events = w.decide(&Command::ExpireDue, now).unwrap();
    let expired: Vec<_> = events
        .iter()
        .map(|e| match e {
            WindowEvent::HoldExpired { reservation_id, expired_at } if *expired_at == now => *reservation_id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(expired, [rid(3), rid(1), rid(2)]);
    // A refused command carries none of them: the refusal is the whole answer.
    assert_eq!(w.decide(&confirm(9, "pi"), now), Err(Rejection::UnknownReservation));
}

// ---------------------------------------------------------------------------------------
// The payment table (`RecordPayment`, `RecordRefund`), row by row. `window_with` places
// holds at 20:40 that expire at 21:10; the window is 21:00..21:15. A slot costs 500 eur.

fn owed(
    id: u8,
    intent: &str,
    amount_minor: Option<u64>,
    currency: Option<&str>,
    reason: RefundReason,
    now: DateTime<Utc>,
) -> WindowEvent {
    WindowEvent::RefundOwed {
        reservation_id: rid(id),
        payment_intent: intent.into(),
        amount_minor,
        currency: currency.map(Into::into),
        reason,
        owed_at: now,
    }
}

fn paid(id: u8, intent: &str, late: bool, now: DateTime<Utc>) -> WindowEvent {
    WindowEvent::HoldConfirmed { reservation_id: rid(id), payment_ref: intent.into(), confirmed_at: now, late }
}

#[test]
fn paying_an_unknown_reservation_is_refused() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    assert_eq!(w.decide(&pay(9, "pi_1", Some(500), Some("eur")), placed), Err(Rejection::UnknownReservation));
}

#[test]
fn a_payment_that_confirmed_the_reservation_changes_nothing_when_reported_again() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), placed + Duration::minutes(1));
    let before = w.clone();
    assert_eq!(w.decide(&pay(1, "pi_1", Some(1000), Some("eur")), placed + Duration::minutes(2)), Ok(vec![]));
    // Whatever amount it reports now, and long after the window ended.
    assert_eq!(w.decide(&pay(1, "pi_1", Some(1), Some("usd")), key().end() + Duration::days(3)), Ok(vec![]));
    assert_eq!(w, before);
}

#[test]
fn a_payment_owed_a_refund_changes_nothing_when_reported_again() {
    let (mut w, placed) = window_with(4, &[(1, 2), (2, 1)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1), Some("eur")), now);
    let before = w.clone();
    assert_eq!(w.decide(&pay(1, "pi_1", Some(1000), Some("eur")), now), Ok(vec![]));
    // Once issued too; only the due expiries of holds are written first.
    run(&mut w, &refunded(1, "pi_1", "re_1"), now);
    let expiry = placed + ttl();
    assert_eq!(
        w.decide(&pay(1, "pi_1", Some(1000), Some("eur")), expiry),
        Ok(vec![
            WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: expiry },
            WindowEvent::HoldExpired { reservation_id: rid(2), expired_at: expiry },
        ])
    );
    assert_eq!(w.reservation(&rid(1)).unwrap().refunds.len(), before.reservation(&rid(1)).unwrap().refunds.len());
}

#[test]
fn a_wrong_amount_is_owed_back_as_amount_mismatch() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    // Two slots cost 1000; the price of one was paid.
    let events = run(&mut w, &pay(1, "pi_1", Some(500), Some("eur")), now);
    assert_eq!(events, [owed(1, "pi_1", Some(500), Some("eur"), RefundReason::AmountMismatch, now)]);
    // The hold is untouched and still counts.
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Held);
    assert_eq!(w.counts_at(now).held, 2);
}

#[test]
fn a_wrong_currency_is_owed_back_as_amount_mismatch() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    assert_eq!(
        w.decide(&pay(1, "pi_1", Some(1000), Some("usd")), now),
        Ok(vec![owed(1, "pi_1", Some(1000), Some("usd"), RefundReason::AmountMismatch, now)])
    );
    assert_eq!(
        w.decide(&pay(1, "pi_1", None, Some("eu")), now),
        Ok(vec![owed(1, "pi_1", None, Some("eu"), RefundReason::AmountMismatch, now)])
    );
}

#[test]
fn currency_case_is_no_mismatch() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    for currency in ["EUR", "Eur", "eur"] {
        assert_eq!(w.decide(&pay(1, "pi_1", Some(1000), Some(currency)), now), Ok(vec![paid(1, "pi_1", false, now)]));
    }
}

#[test]
fn an_absent_amount_or_currency_is_owed_back_as_amount_mismatch() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    for (amount, currency) in [(None, Some("eur")), (Some(1000), None), (None, None)] {
        assert_eq!(
            w.decide(&pay(1, "pi_1", amount, currency), now),
            Ok(vec![owed(1, "pi_1", amount, currency, RefundReason::AmountMismatch, now)]),
            "{amount:?} {currency:?}"
        );
    }
}

#[test]
fn a_mismatch_is_answered_before_already_confirmed() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now);
    assert_eq!(
        w.decide(&pay(1, "pi_2", Some(999), None), now),
        Ok(vec![owed(1, "pi_2", Some(999), None, RefundReason::AmountMismatch, now)])
    );
}

#[test]
fn another_payment_for_a_confirmed_reservation_is_owed_back_as_already_confirmed() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), placed + Duration::minutes(1));
    // Also when it was confirmed through `Confirm`, and long after the window ended.
    let (mut w2, _) = window_with(4, &[(1, 2)]);
    run(&mut w2, &confirm(1, "dev:1"), placed + Duration::minutes(1));
    for mut w in [w, w2] {
        let now = key().end() + Duration::hours(1);
        let events = run(&mut w, &pay(1, "pi_2", Some(1000), Some("eur")), now);
        assert_eq!(events, [owed(1, "pi_2", Some(1000), Some("eur"), RefundReason::AlreadyConfirmed, now)]);
        assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Confirmed);
        assert_eq!(w.counts_at(now).confirmed, 2);
    }
}

#[test]
fn paying_a_live_hold_confirms_it_on_time() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + ttl() - Duration::microseconds(1);
    assert_eq!(run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now), [paid(1, "pi_1", false, now)]);
    assert_eq!(w.reservation(&rid(1)).unwrap().payment_ref.as_deref(), Some("pi_1"));
    assert_eq!(w.counts_at(now).confirmed, 2);

    // A live hold is paid on time even after its window ended, and even when full.
    let placed = key().end() - Duration::minutes(1);
    let mut w = Window::unopened(key(), 1);
    run(&mut w, &hold(1, 1), placed);
    let now = key().end() + Duration::minutes(5);
    assert_eq!(run(&mut w, &pay(1, "pi_1", Some(500), Some("eur")), now), [paid(1, "pi_1", false, now)]);
}

#[test]
fn paying_a_dead_hold_after_the_window_ended_is_owed_back_as_window_ended() {
    let (w, _) = window_with(4, &[(1, 2)]);
    let now = key().end();
    let events = w.decide(&pay(1, "pi_1", Some(1000), Some("eur")), now).unwrap();
    assert_eq!(
        events,
        [
            WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: now },
            owed(1, "pi_1", Some(1000), Some("eur"), RefundReason::WindowEnded, now),
        ]
    );
}

#[test]
fn paying_a_dead_hold_without_room_is_owed_back_as_sold_out() {
    let (mut w, placed) = window_with(3, &[(1, 2)]);
    let later = placed + ttl() + Duration::seconds(1);
    run(&mut w, &hold(2, 2), later); // takes the slots the expired hold freed
    let now = later + Duration::seconds(1);
    let before = w.clone();
    assert_eq!(
        run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now),
        [owed(1, "pi_1", Some(1000), Some("eur"), RefundReason::SoldOut, now)]
    );
    assert_eq!(w.counts_at(now), before.counts_at(now), "a refund takes no slot");
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Expired);
}

#[test]
fn paying_a_dead_hold_with_room_confirms_it_late() {
    // Expired, with HoldExpired not yet written: it is written first.
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + ttl();
    assert_eq!(
        run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now),
        [WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: now }, paid(1, "pi_1", true, now)]
    );
    assert_eq!(w.counts_at(now).confirmed, 2);

    // Cancelled.
    let (mut w, placed) = window_with(2, &[(1, 2)]);
    run(&mut w, &cancel(1), placed);
    let now = placed + Duration::minutes(1);
    assert_eq!(run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now), [paid(1, "pi_1", true, now)]);
    assert_eq!(w.counts_at(now).available, 0);
}

#[test]
fn a_refund_report_for_an_unknown_reservation_is_refused() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    assert_eq!(w.decide(&refunded(9, "pi_1", "re_1"), placed), Err(Rejection::UnknownReservation));
}

#[test]
fn a_refund_report_for_a_payment_owed_nothing_is_refused() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    assert_eq!(w.decide(&refunded(1, "pi_1", "re_1"), now), Err(Rejection::NoRefundOwed));
    // Not even for the payment that confirmed it, nor for another reservation's refund.
    run(&mut w, &hold(2, 1), now);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now);
    run(&mut w, &pay(2, "pi_2", Some(1), Some("eur")), now);
    assert_eq!(w.decide(&refunded(1, "pi_1", "re_1"), now), Err(Rejection::NoRefundOwed));
    assert_eq!(w.decide(&refunded(1, "pi_2", "re_2"), now), Err(Rejection::NoRefundOwed));
}

#[test]
fn a_refund_report_for_an_owed_payment_issues_it() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1), Some("eur")), now);
    let later = now + Duration::minutes(1);
    assert_eq!(
        run(&mut w, &refunded(1, "pi_1", "re_1"), later),
        [WindowEvent::RefundIssued {
            reservation_id: rid(1),
            payment_intent: "pi_1".into(),
            refund_id: "re_1".into(),
            issued_at: later
        }]
    );
    assert_eq!(w.reservation(&rid(1)).unwrap().refunds[0].refund_id.as_deref(), Some("re_1"));
}

#[test]
fn a_refund_report_again_changes_nothing() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1), Some("eur")), now);
    run(&mut w, &refunded(1, "pi_1", "re_1"), now);
    let before = w.clone();
    assert_eq!(w.decide(&refunded(1, "pi_1", "re_1"), now), Ok(vec![]));
    assert_eq!(w.decide(&refunded(1, "pi_1", "re_other"), now), Ok(vec![]));
    assert_eq!(w, before);
}

#[test]
fn a_confirmed_reservation_stays_confirmed_with_a_refund_for_a_second_payment() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now);
    run(&mut w, &pay(1, "pi_2", Some(1000), Some("eur")), now);
    let r = w.reservation(&rid(1)).unwrap();
    assert_eq!(r.public_status_at(now), ReservationStatus::Confirmed);
    run(&mut w, &refunded(1, "pi_2", "re_2"), now);
    let r = w.reservation(&rid(1)).unwrap();
    assert_eq!(r.public_status_at(key().end() + Duration::days(1)), ReservationStatus::Confirmed);
    assert_eq!(ReservationView::of(&key(), r, now).status, ReservationStatus::Confirmed);
}

#[test]
fn an_unconfirmed_paid_reservation_is_refund_owed_until_every_refund_is_issued() {
    let (mut w, placed) = window_with(2, &[(1, 2)]);
    run(&mut w, &cancel(1), placed);
    run(&mut w, &hold(2, 2), placed);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), now);
    run(&mut w, &pay(1, "pi_2", Some(1000), Some("eur")), now);
    let status = |w: &Window| w.reservation(&rid(1)).unwrap().public_status_at(now);
    assert_eq!(status(&w), ReservationStatus::RefundOwed);
    run(&mut w, &refunded(1, "pi_1", "re_1"), now);
    assert_eq!(status(&w), ReservationStatus::RefundOwed, "one of two refunds is still owed");
    run(&mut w, &refunded(1, "pi_2", "re_2"), now);
    assert_eq!(status(&w), ReservationStatus::Refunded);
    assert_eq!(ReservationView::of(&key(), w.reservation(&rid(1)).unwrap(), now).status, ReservationStatus::Refunded);
    // The stored state of the hold is unchanged by refunds.
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Cancelled);
}

#[test]
fn a_live_hold_paid_the_wrong_amount_is_refund_owed_until_paid_right() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(500), Some("eur")), now);
    assert_eq!(w.reservation(&rid(1)).unwrap().public_status_at(now), ReservationStatus::RefundOwed);
    run(&mut w, &pay(1, "pi_2", Some(1000), Some("eur")), now);
    assert_eq!(w.reservation(&rid(1)).unwrap().public_status_at(now), ReservationStatus::Confirmed);
}

#[test]
fn the_audit_refuses_a_second_effect_of_one_payment_and_a_refund_not_owed() {
    use qskip::domain::Violation;
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    let mismatch = owed(1, "pi_1", Some(1), None, RefundReason::AmountMismatch, now);
    let issued = |intent: &str| WindowEvent::RefundIssued {
        reservation_id: rid(1),
        payment_intent: intent.into(),
        refund_id: "re".into(),
        issued_at: now,
    };
    assert_eq!(w.audit(&issued("pi_1")), Err(Violation::RefundNotOwed("pi_1".into())));
    run(&mut w, &pay(1, "pi_1", Some(1), None), now);
    assert_eq!(w.audit(&mismatch), Err(Violation::PaymentCountedTwice("pi_1".into())));
    run(&mut w, &pay(1, "pi_2", Some(1000), Some("eur")), now);
    let again = owed(1, "pi_2", None, None, RefundReason::AlreadyConfirmed, now);
    assert_eq!(w.audit(&again), Err(Violation::PaymentCountedTwice("pi_2".into())));
    assert_eq!(w.audit(&issued("pi_1")), Ok(()));
    run(&mut w, &refunded(1, "pi_1", "re"), now);
    assert_eq!(w.audit(&issued("pi_1")), Err(Violation::RefundNotOwed("pi_1".into())));
    assert_eq!(w.audit(&issued("pi_2")), Err(Violation::RefundNotOwed("pi_2".into())));
    let unknown = owed(9, "pi_9", None, None, RefundReason::SoldOut, now);
    assert_eq!(w.audit(&unknown), Err(Violation::UnknownReservation(rid(9).to_string())));
}

#[test]
fn a_payment_owed_a_refund_never_confirms_later() {
    use qskip::domain::Violation;
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    run(&mut w, &pay(1, "pi_1", Some(1), Some("eur")), now);
    // The same payment reaching the window through `Confirm` must not confirm it: its
    // money is already owed back.
    let confirmed = paid(1, "pi_1", false, now);
    assert_eq!(w.audit(&confirmed), Err(Violation::PaymentCountedTwice("pi_1".into())));
    assert_eq!(w.decide(&confirm(1, "pi_1"), now), Ok(vec![]));
}

// ---------------------------------------------------------------------------------------
// The checkout table (`OpenCheckout`, `CloseCheckout`) and `checkout_to_close`, row by
// row. `window_with` places holds at 20:40 that expire at 21:10; Stripe keeps a page
// payable for at least 30 minutes, so the pages here outlive their holds.

fn page_expiry(placed: DateTime<Utc>) -> DateTime<Utc> {
    placed + Duration::minutes(31)
}

fn opened(id: u8, checkout: Checkout, now: DateTime<Utc>) -> WindowEvent {
    WindowEvent::CheckoutOpened { reservation_id: rid(id), checkout, opened_at: now }
}

fn closed(id: u8, session: &str, now: DateTime<Utc>) -> WindowEvent {
    WindowEvent::CheckoutClosed { reservation_id: rid(id), session_id: session.into(), closed_at: now }
}

#[test]
fn checkout_commands_for_an_unknown_reservation_are_refused() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    let open = open_checkout(9, page("cs_1", page_expiry(placed)));
    assert_eq!(w.decide(&open, placed), Err(Rejection::UnknownReservation));
    assert_eq!(w.decide(&close_checkout(9, "cs_1"), placed), Err(Rejection::UnknownReservation));
    // Not even once the reservation's own hold is over and due expiries would be written.
    assert_eq!(w.decide(&open, key().end()), Err(Rejection::UnknownReservation));
}

#[test]
fn opening_the_first_checkout_records_it_open() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::seconds(1);
    // A caller that claims the page is closed does not make it so.
    let claimed = Checkout { closed: true, ..page("cs_1", page_expiry(placed)) };
    let events = run(&mut w, &open_checkout(1, claimed), now);
    assert_eq!(events, [opened(1, page("cs_1", page_expiry(placed)), now)]);
    assert_eq!(w.reservation(&rid(1)).unwrap().checkout, Some(page("cs_1", page_expiry(placed))));
    // A checkout takes no slot and leaves the hold as it was.
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Held);
    assert_eq!(w.counts_at(now).held, 2);
}

#[test]
fn a_checkout_opens_whatever_the_hold_became() {
    // The rules ask only for a known reservation without a checkout.
    let (mut w, placed) = window_with(6, &[(1, 1), (2, 1), (3, 1)]);
    run(&mut w, &cancel(2), placed);
    run(&mut w, &confirm(3, "pi_3"), placed);
    let now = placed + ttl();
    let events = run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), now);
    assert_eq!(
        events,
        [
            WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: now },
            opened(1, page("cs_1", page_expiry(placed)), now)
        ]
    );
    for id in [2, 3] {
        let session = format!("cs_{id}");
        let events = run(&mut w, &open_checkout(id, page(&session, page_expiry(placed))), now);
        assert_eq!(events, [opened(id, page(&session, page_expiry(placed)), now)]);
    }
}

#[test]
fn opening_the_recorded_session_again_changes_nothing() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    let before = w.clone();
    let now = placed + Duration::minutes(1);
    assert_eq!(w.decide(&open_checkout(1, page("cs_1", page_expiry(placed))), now), Ok(vec![]));
    // The session id alone decides: another url or expiry for it changes nothing either.
    let other = Checkout { url: "https://example.com/elsewhere".into(), ..page("cs_1", page_expiry(now)) };
    assert_eq!(w.decide(&open_checkout(1, other), now), Ok(vec![]));
    assert_eq!(w, before);
    // Nor once the page was closed.
    run(&mut w, &close_checkout(1, "cs_1"), now);
    let before = w.clone();
    assert_eq!(w.decide(&open_checkout(1, page("cs_1", page_expiry(placed))), now), Ok(vec![]));
    assert_eq!(w, before);
}

#[test]
fn opening_another_session_is_refused_as_checkout_already_open() {
    let (mut w, placed) = window_with(4, &[(1, 2), (2, 1)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    let now = placed + Duration::minutes(1);
    assert_eq!(w.decide(&open_checkout(1, page("cs_2", page_expiry(now))), now), Err(Rejection::CheckoutAlreadyOpen));
    // Also once the first page was closed: a reservation has one page, ever.
    run(&mut w, &close_checkout(1, "cs_1"), now);
    assert_eq!(w.decide(&open_checkout(1, page("cs_2", page_expiry(now))), now), Err(Rejection::CheckoutAlreadyOpen));
    // Another reservation may open a page of any session id.
    assert_eq!(
        w.decide(&open_checkout(2, page("cs_1", page_expiry(now))), now),
        Ok(vec![opened(2, page("cs_1", page_expiry(now)), now)])
    );
}

#[test]
fn closing_the_open_session_closes_it() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    let now = placed + Duration::minutes(3);
    assert_eq!(run(&mut w, &close_checkout(1, "cs_1"), now), [closed(1, "cs_1", now)]);
    let checkout = w.reservation(&rid(1)).unwrap().checkout.clone().unwrap();
    assert_eq!(checkout, Checkout { closed: true, ..page("cs_1", page_expiry(placed)) });
    // Closing a page ends no hold.
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Held);
}

#[test]
fn closing_a_closed_session_again_changes_nothing() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    run(&mut w, &close_checkout(1, "cs_1"), placed);
    let before = w.clone();
    assert_eq!(w.decide(&close_checkout(1, "cs_1"), placed + Duration::minutes(1)), Ok(vec![]));
    // Only the due expiry of the hold is written, long after.
    let later = key().end() + Duration::days(1);
    assert_eq!(
        w.decide(&close_checkout(1, "cs_1"), later),
        Ok(vec![WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: later }])
    );
    assert_eq!(w, before);
}

#[test]
fn closing_without_a_checkout_or_another_session_is_unknown_checkout() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    assert_eq!(w.decide(&close_checkout(1, "cs_1"), placed), Err(Rejection::UnknownCheckout));
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    assert_eq!(w.decide(&close_checkout(1, "cs_2"), placed), Err(Rejection::UnknownCheckout));
    assert_eq!(w.decide(&close_checkout(1, ""), placed), Err(Rejection::UnknownCheckout));
    run(&mut w, &close_checkout(1, "cs_1"), placed);
    assert_eq!(w.decide(&close_checkout(1, "cs_2"), placed), Err(Rejection::UnknownCheckout));
}

/// `checkout_to_close` of reservation 1 at `now`, as its session id.
fn to_close(w: &Window, now: DateTime<Utc>) -> Option<String> {
    w.reservation(&rid(1)).unwrap().checkout_to_close(now).map(|c| c.session_id.clone())
}

#[test]
fn an_open_checkout_needs_closing_once_its_hold_expired() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    let expiry = placed + ttl();
    assert_eq!(to_close(&w, placed), None, "the hold is live");
    assert_eq!(to_close(&w, expiry - Duration::microseconds(1)), None, "the hold is live");
    // Held past its expiry, before HoldExpired is written ...
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Held);
    assert_eq!(to_close(&w, expiry).as_deref(), Some("cs_1"));
    // ... and after.
    run(&mut w, &Command::ExpireDue, expiry);
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Expired);
    assert_eq!(to_close(&w, expiry).as_deref(), Some("cs_1"));
    // Once closed, never again.
    run(&mut w, &close_checkout(1, "cs_1"), expiry);
    assert_eq!(to_close(&w, expiry), None);
    assert_eq!(to_close(&w, key().end() + Duration::days(1)), None);
}

#[test]
fn an_open_checkout_needs_closing_once_its_hold_was_cancelled_or_confirmed() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    run(&mut w, &cancel(1), placed);
    assert_eq!(to_close(&w, placed).as_deref(), Some("cs_1"));
    run(&mut w, &close_checkout(1, "cs_1"), placed);
    assert_eq!(to_close(&w, placed), None);

    // Paid while live: the page itself is done, its close is still to be recorded.
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    run(&mut w, &pay(1, "pi_1", Some(1000), Some("eur")), placed);
    assert_eq!(to_close(&w, placed).as_deref(), Some("cs_1"));
    run(&mut w, &close_checkout(1, "cs_1"), placed);
    assert_eq!(to_close(&w, placed), None);

    // Confirmed late.
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    let late = placed + ttl() + Duration::minutes(1);
    assert!(matches!(run(&mut w, &confirm(1, "pi_1"), late)[..], [_, WindowEvent::HoldConfirmed { late: true, .. }]));
    assert_eq!(to_close(&w, late).as_deref(), Some("cs_1"));
}

#[test]
fn without_a_checkout_there_is_nothing_to_close() {
    let (mut w, placed) = window_with(6, &[(1, 1), (2, 1), (3, 1)]);
    run(&mut w, &cancel(2), placed);
    run(&mut w, &confirm(3, "pi_3"), placed);
    for now in [placed, placed + ttl(), key().end() + Duration::days(1)] {
        for id in [1, 2, 3] {
            assert_eq!(w.reservation(&rid(id)).unwrap().checkout_to_close(now), None, "{id} at {now}");
        }
    }
}

#[test]
fn a_refund_owed_does_not_hide_an_open_checkout() {
    // Paid the wrong amount while live: the hold is live, the page stays open ...
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed);
    run(&mut w, &pay(1, "pi_1", Some(1), Some("eur")), placed);
    assert_eq!(w.reservation(&rid(1)).unwrap().public_status_at(placed), ReservationStatus::RefundOwed);
    assert_eq!(to_close(&w, placed), None);
    // ... until the hold ends.
    assert_eq!(to_close(&w, placed + ttl()).as_deref(), Some("cs_1"));
}

#[test]
fn the_audit_refuses_a_second_checkout_and_a_close_of_no_open_checkout() {
    use qskip::domain::Violation;
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let page_1 = page("cs_1", page_expiry(placed));
    assert_eq!(w.audit(&opened(9, page_1.clone(), placed)), Err(Violation::UnknownReservation(rid(9).to_string())));
    assert_eq!(w.audit(&closed(9, "cs_1", placed)), Err(Violation::CheckoutNotOpen("cs_1".into())));
    assert_eq!(w.audit(&closed(1, "cs_1", placed)), Err(Violation::CheckoutNotOpen("cs_1".into())));
    assert_eq!(w.audit(&opened(1, page_1.clone(), placed)), Ok(()));
    run(&mut w, &open_checkout(1, page_1.clone()), placed);
    // A second page, of the same session or another.
    assert_eq!(w.audit(&opened(1, page_1.clone(), placed)), Err(Violation::CheckoutTwice(rid(1).to_string())));
    let page_2 = page("cs_2", page_expiry(placed));
    assert_eq!(w.audit(&opened(1, page_2, placed)), Err(Violation::CheckoutTwice(rid(1).to_string())));
    assert_eq!(w.audit(&closed(1, "cs_2", placed)), Err(Violation::CheckoutNotOpen("cs_2".into())));
    assert_eq!(w.audit(&closed(1, "cs_1", placed)), Ok(()));
    run(&mut w, &close_checkout(1, "cs_1"), placed);
    assert_eq!(w.audit(&closed(1, "cs_1", placed)), Err(Violation::CheckoutNotOpen("cs_1".into())));
    assert_eq!(w.audit(&opened(1, page_1, placed)), Err(Violation::CheckoutTwice(rid(1).to_string())));
}

#[test]
fn checkout_events_rebuild_the_live_window() {
    let mut w = Window::unopened(key(), 4);
    let placed = key().start - Duration::minutes(20);
    let mut log = Vec::new();
    log.extend(run(&mut w, &hold(1, 2), placed));
    log.extend(run(&mut w, &hold(2, 1), placed));
    log.extend(run(&mut w, &open_checkout(1, page("cs_1", page_expiry(placed))), placed));
    log.extend(run(&mut w, &open_checkout(2, page("cs_2", page_expiry(placed))), placed));
    log.extend(run(&mut w, &close_checkout(1, "cs_1"), placed + ttl()));
    assert!(matches!(log[..], [_, _, _, _, _, WindowEvent::HoldExpired { .. }, WindowEvent::HoldExpired { .. }, _]));
    assert_eq!(rebuild(4, &log), w);
}
