//! Random command sequences: the operations a script is made of, and their strategies.

use super::*;

/// Ids 0..6 may be held (and collide); 6 and 7 are never held, so confirming, paying or
/// cancelling them is a command on an unknown reservation.
pub(super) const HOLD_IDS: u8 = 6;
pub(super) const ALL_IDS: u8 = 8;
/// `Confirm`'s payment refs (the dev checkout's path).
pub(super) const PAYMENT_REFS: [&str; 3] = ["pi_a", "pi_b", "pi_c"];
/// The provider's payment intents (`RecordPayment`), a small pool so that intents are
/// reported again, for the same reservation and for others. Disjoint from
/// `PAYMENT_REFS`: the two paths never share a payment in production.
pub(super) const INTENTS: [&str; 5] = ["pi_0", "pi_1", "pi_2", "pi_3", "pi_4"];
pub(super) const CURRENCIES: [Option<&str>; 4] = [Some("eur"), Some("EUR"), Some("usd"), None];

/// The session id a checkout command names.
#[derive(Debug, Clone)]
pub(super) enum Session {
    /// The one recorded for the reservation (or `fallback` while none is).
    Recorded { fallback: String },
    /// A random one: another page than the recorded one (or the first one).
    Random(String),
}

impl Session {
    pub(super) fn id(&self, model: &Model, id: u8) -> String {
        let recorded = model.reservations.get(&rid(id)).and_then(|r| r.checkout.as_ref());
        match (self, recorded) {
            (Session::Recorded { .. }, Some(c)) => c.session_id.clone(),
            (Session::Recorded { fallback: session }, None) | (Session::Random(session), _) => session.clone(),
        }
    }
}

/// The amount a random payment reports, relative to what the reservation costs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Amount {
    Due,
    Off(i64),
    Absent,
}

#[derive(Debug, Clone)]
pub(super) enum Op {
    Hold {
        id: u8,
        quantity: u32,
        email: bool,
        /// Join the waitlist when sold out.
        waitlist: bool,
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
    /// The worker gives up on the `pick`-th refund the model knows.
    RefundFailedKnown {
        pick: usize,
    },
    /// An operator retries the failed refunds of the `pick`-th refund's reservation
    /// (or of `id` when the model knows no refund).
    RetryRefunds {
        pick: usize,
        id: u8,
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
    pub(super) fn command(&self, model: &Model, now: DateTime<Utc>) -> Command {
        match *self {
            Op::Hold { id, quantity, email, waitlist } => Command::PlaceHold {
                reservation_id: rid(id),
                quantity,
                hold_ttl: ttl(),
                email: email.then(|| format!("guest{id}@example.com")),
                // Offers of a few minutes, so that some lapse within a script.
                waitlist_offer_secs: waitlist.then_some(3 * 60),
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
                    let refund_ids = vec![format!("re_{refund}")];
                    Command::RecordRefund { reservation_id, payment_intent, refund_ids, refunded_minor: None }
                }
            },
            Op::RefundFailedKnown { pick } => {
                let known = model.refunds();
                let (reservation_id, payment_intent) =
                    known.get(pick % known.len().max(1)).cloned().unwrap_or((rid(0), INTENTS[0].into()));
                Command::FailRefund { reservation_id, payment_intent, attempts: 3, error: "refused".into() }
            }
            Op::RetryRefunds { pick, id } => {
                let known = model.refunds();
                let reservation_id = known.get(pick % known.len().max(1)).map_or(rid(id), |(r, _)| *r);
                Command::RetryRefunds { reservation_id, by: OPERATOR.into() }
            }
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

pub(super) fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        3 => Just(Amount::Due),
        1 => prop::sample::select(vec![-500i64, -1, 1, 500, 1_000_000]).prop_map(Amount::Off),
        1 => Just(Amount::Absent),
    ]
}

pub(super) fn currency() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize), 1 => Just(3usize)]
}

/// Random session ids, from a pool small enough that two reservations share one.
pub(super) fn any_session_id() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(vec!["cs_test_0", "cs_test_1"]).prop_map(String::from),
        2 => "cs_test_[a-zA-Z0-9]{1,24}",
    ]
}

pub(super) fn session() -> impl Strategy<Value = Session> {
    prop_oneof![
        3 => any_session_id().prop_map(|fallback| Session::Recorded { fallback }),
        1 => any_session_id().prop_map(Session::Random),
    ]
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..HOLD_IDS, 1..=4u32, any::<bool>())
            .prop_map(|(id, quantity, email)| Op::Hold { id, quantity, email, waitlist: false }),
        2 => (0..ALL_IDS, 0..PAYMENT_REFS.len()).prop_map(|(id, payment)| Op::Confirm { id, payment }),
        4 => (0..ALL_IDS, 0..INTENTS.len(), amount(), currency())
            .prop_map(|(id, intent, amount, currency)| Op::Pay { id, intent, amount, currency }),
        1 => (0..ALL_IDS, 0..INTENTS.len(), 0..3u8).prop_map(|(id, intent, refund)| Op::Refund { id, intent, refund }),
        2 => (any::<usize>(), 0..3u8).prop_map(|(pick, refund)| Op::RefundKnown { pick, refund }),
        1 => any::<usize>().prop_map(|pick| Op::RefundFailedKnown { pick }),
        1 => (any::<usize>(), 0..ALL_IDS).prop_map(|(pick, id)| Op::RetryRefunds { pick, id }),
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
pub(super) fn step() -> impl Strategy<Value = Duration> {
    prop_oneof![
        6 => (0..=3i64).prop_map(Duration::minutes),
        1 => (0..=40i64).prop_map(Duration::minutes),
        1 => (0..=40 * 60 * 1_000_000i64).prop_map(Duration::microseconds),
    ]
}

/// A window's capacity, how many minutes before its start the script begins, and the
/// script: commands with the time that passes before each.
pub(super) type Script = (u32, i64, Vec<(Duration, Op)>);

pub(super) fn script() -> impl Strategy<Value = Script> {
    (0..=12u32, 0..=150i64, prop::collection::vec((step(), op()), 1..60))
}

/// What one decision came to, named for the coverage check.
pub(super) fn outcome(command: &Command, decided: &Result<Vec<WindowEvent>, Rejection>) -> &'static str {
    // The command's own last event: expiries before it and the queue served after it
    // are the window's.
    let last_effect = |events: &[WindowEvent]| {
        let own = |e: &&WindowEvent| {
            !matches!(
                e,
                WindowEvent::HoldExpired { .. }
                    | WindowEvent::WaitlistOffered { .. }
                    | WindowEvent::WaitlistExpired { .. }
            )
        };
        events.iter().rfind(own).cloned()
    };
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
            Some(WindowEvent::RefundSettled { .. }) => "refund: issued",
            Some(_) => "refund: other event",
        },
        (Command::FailRefund { .. }, Ok(events)) => match last_effect(events) {
            Some(WindowEvent::RefundFailed { .. }) => "refund failed: recorded",
            _ => "refund failed: again",
        },
        (Command::RetryRefunds { .. }, Ok(_)) => "refund retry: retried",
        (Command::RetryRefunds { .. }, Err(Rejection::NoFailedRefund)) => "refund retry: none failed",
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
        (Command::PlaceHold { .. }, Ok(events)) if joined(events) => "waitlist: joined",
        (Command::Cancel { .. }, Ok(events))
            if events.iter().any(|e| matches!(e, WindowEvent::WaitlistLeft { .. })) =>
        {
            "waitlist: left"
        }
        (_, Ok(events)) if events.iter().any(|e| matches!(e, WindowEvent::WaitlistExpired { .. })) => {
            "waitlist: closed at the end"
        }
        (_, Ok(events)) if events.iter().any(|e| matches!(e, WindowEvent::WaitlistOffered { .. })) => {
            "waitlist: offered"
        }
        (_, Ok(_)) => "other: ok",
        (_, Err(_)) => "other: refused",
    }
}

fn joined(events: &[WindowEvent]) -> bool {
    events.iter().any(|e| matches!(e, WindowEvent::WaitlistJoined { .. }))
}
