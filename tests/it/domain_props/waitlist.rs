//! The waitlist in the reference model (served strictly first in, first out), and its
//! decision table case by case: joining, offers in queue order as slots free up, offers
//! that expire and pass on, leaving the queue, and the queue closing at the window's end.

use super::*;

impl Model {
    /// The model after `events` (decided, not yet applied).
    pub(super) fn after(&self, events: &[WindowEvent]) -> Model {
        let mut next = self.clone();
        events.iter().for_each(|e| next.apply(e));
        next
    }

    /// The queue's part of a decision after `events`: offers to the head while it fits
    /// the free slots, or every entry expiring once the window ended.
    pub(super) fn serve(&self, events: &[WindowEvent], now: DateTime<Utc>) -> Vec<WindowEvent> {
        let next = self.after(events);
        if now >= key().end() {
            let expire = |&(id, _, _): &(ReservationId, u32, u32)| WindowEvent::WaitlistExpired {
                reservation_id: id,
                expired_at: now,
            };
            return next.queue.iter().map(expire).collect();
        }
        let mut room = next.room(now);
        let mut offers = Vec::new();
        for &(id, quantity, offer_secs) in &next.queue {
            if quantity > room {
                break;
            }
            room -= quantity;
            let expires_at = now + Duration::seconds(i64::from(offer_secs));
            offers.push(WindowEvent::WaitlistOffered { reservation_id: id, offered_at: now, expires_at });
        }
        offers
    }

    pub(super) fn apply_waitlist(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::WaitlistJoined { reservation_id, quantity, offer_secs, .. } => {
                let r = ModelReservation {
                    quantity: *quantity,
                    expires_at: key().end(),
                    status: ReservationStatus::Waitlisted,
                    payment_ref: None,
                    refunds: Vec::new(),
                    checkout: None,
                };
                self.reservations.insert(*reservation_id, r);
                self.queue.push((*reservation_id, *quantity, *offer_secs));
            }
            WindowEvent::WaitlistOffered { reservation_id, expires_at, .. } => {
                assert_eq!(self.queue.first().map(|e| e.0), Some(*reservation_id), "model: offer not to the head");
                self.queue.remove(0);
                let r = self.reservations.get_mut(reservation_id).unwrap();
                (r.status, r.expires_at) = (ReservationStatus::Held, *expires_at);
            }
            WindowEvent::WaitlistLeft { reservation_id, .. } | WindowEvent::WaitlistExpired { reservation_id, .. } => {
                self.queue.retain(|e| e.0 != *reservation_id);
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.status = match event {
                    WindowEvent::WaitlistLeft { .. } => ReservationStatus::Cancelled,
                    _ => ReservationStatus::Expired,
                };
            }
            other => unreachable!("not a waitlist event: {other:?}"),
        }
    }
}

/// Ops that keep a small window sold out with a queue: mostly requests that queue
/// (among more ids than `op`, so that many queue), cancels, payments and expiries, and
/// now and then anything `op` makes.
fn waitlist_op() -> impl Strategy<Value = Op> {
    let ids = 0..QUEUE_IDS;
    prop_oneof![
        6 => (ids.clone(), 1..=3u32, any::<bool>())
            .prop_map(|(id, quantity, email)| Op::Hold { id, quantity, email, waitlist: true }),
        1 => (ids.clone(), 1..=2u32).prop_map(|(id, quantity)| Op::Hold { id, quantity, email: false, waitlist: false }),
        3 => ids.clone().prop_map(|id| Op::Cancel { id }),
        2 => (ids.clone(), 0..INTENTS.len())
            .prop_map(|(id, intent)| Op::Pay { id, intent, amount: Amount::Due, currency: 0 }),
        1 => ids.prop_map(|id| Op::Release { id }),
        1 => (0..=5u32).prop_map(|capacity| Op::ChangeCapacity { capacity }),
        2 => Just(Op::ExpireDue),
        1 => op(),
    ]
}

/// Ids the waitlist scripts use.
pub(super) const QUEUE_IDS: u8 = 16;

/// A script around a waitlist: a window of 1..=4 slots, opened at most 40 minutes
/// before it starts, so that queues form, offers lapse and the window ends.
pub(super) fn waitlist_script() -> impl Strategy<Value = Script> {
    (1..=4u32, 0..=40i64, prop::collection::vec((step(), waitlist_op()), 1..80))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Scripts around a queue, checked like every script (model, capacity, fold) and
    /// for strict FIFO service: offers only to the head, nobody offered twice, and no
    /// head left waiting that fits.
    #[test]
    fn a_queue_is_served_in_order_once_each_and_never_oversells(script in waitlist_script()) {
        super::scripts::check_script(script)?;
    }
}

/// The waitlist scripts are not vacuous: over a fixed sample they queue, offer, let
/// offers lapse, leave the queue and close it at the window's end.
#[test]
fn the_waitlist_scripts_reach_every_queue_outcome() {
    let mut runner = TestRunner::deterministic();
    let strategy = waitlist_script();
    let mut reached = BTreeSet::new();
    for _ in 0..100 {
        let script = strategy.new_tree(&mut runner).unwrap().current();
        reached.extend(super::scripts::check_script(script).unwrap());
    }
    for outcome in [
        "waitlist: joined",
        "waitlist: offered",
        "waitlist: an offer lapsed",
        "waitlist: left",
        "waitlist: closed at the end",
    ] {
        assert!(reached.contains(outcome), "no script reached {outcome:?}; reached {reached:?}");
    }
}

/// Offers stay open this long in the table tests (ten minutes).
const OFFER_SECS: u32 = 600;

fn queue(id: u8, quantity: u32) -> Command {
    Command::PlaceHold {
        reservation_id: rid(id),
        quantity,
        hold_ttl: ttl(),
        email: None,
        waitlist_offer_secs: Some(OFFER_SECS),
    }
}

fn status(w: &Window, id: u8) -> ReservationStatus {
    w.reservation(&rid(id)).unwrap().status
}

fn offered(events: &[WindowEvent]) -> Vec<ReservationId> {
    let offer = |e: &WindowEvent| match e {
        WindowEvent::WaitlistOffered { reservation_id, .. } => Some(*reservation_id),
        _ => None,
    };
    events.iter().filter_map(offer).collect()
}

#[test]
fn a_sold_out_window_queues_only_when_asked_and_only_what_it_could_ever_serve() {
    let (mut w, placed) = window_with(2, &[(1, 2)]);
    assert_eq!(w.decide(&hold(2, 1), placed), Err(Rejection::SoldOut { available: 0 }));
    let joined = run(&mut w, &queue(2, 1), placed);
    assert!(matches!(joined[..], [WindowEvent::WaitlistJoined { quantity: 1, offer_secs: OFFER_SECS, .. }]));
    assert_eq!(status(&w, 2), ReservationStatus::Waitlisted);
    assert_eq!(w.waitlist().position(&rid(2)), Some(1));
    // Larger than the window: it would block the queue for ever.
    assert_eq!(w.decide(&queue(3, 3), placed), Err(Rejection::SoldOut { available: 0 }));
    let counts = w.counts_at(placed);
    assert_eq!((counts.available, counts.waitlisted, counts.held), (0, 1, 2));
    // With room and nobody queued, the flag changes nothing: an ordinary hold.
    let (mut empty, placed) = window_with(2, &[]);
    assert!(matches!(
        run(&mut empty, &queue(4, 1), placed)[..],
        [WindowEvent::WindowOpened { .. }, WindowEvent::HoldPlaced { .. }]
    ));
}

#[test]
fn freed_slots_go_to_the_queue_in_order_in_the_same_decision_and_a_big_head_blocks() {
    let (mut w, placed) = window_with(3, &[(1, 1), (2, 2)]);
    for (id, quantity) in [(3, 2), (4, 1), (5, 1)] {
        run(&mut w, &queue(id, quantity), placed);
    }
    // One slot frees: the head wants two, so nobody behind it is served (strict FIFO).
    let events = run(&mut w, &cancel(1), placed);
    assert!(offered(&events).is_empty(), "{events:?}");
    // A newcomer does not pass the queue either.
    assert_eq!(w.decide(&hold(6, 1), placed), Err(Rejection::SoldOut { available: 0 }));
    // Two more free: three slots go to the head (2) and the next (1), in that order.
    let events = run(&mut w, &cancel(2), placed);
    assert_eq!(offered(&events), vec![rid(3), rid(4)]);
    assert!(matches!(events[0], WindowEvent::HoldCancelled { .. }), "the cause comes first: {events:?}");
    let r = w.reservation(&rid(3)).unwrap();
    assert_eq!((r.status, r.offered_at), (ReservationStatus::Held, Some(placed)));
    assert_eq!(r.expires_at, placed + Duration::seconds(i64::from(OFFER_SECS)));
    assert_eq!(w.waitlist().position(&rid(5)), Some(1));
    assert_eq!(w.committed_recorded(), 3);
    // A listing shows the same positions as a single read.
    let prices = PriceHistory::starting(price());
    for view in w.views(&prices, placed) {
        let single = w.view(w.reservation(&view.id).unwrap(), &prices, placed);
        assert_eq!(view, single);
        assert_eq!(view.position.is_some(), view.status == ReservationStatus::Waitlisted, "{view:?}");
    }
}

#[test]
fn an_unpaid_offer_expires_and_passes_on_and_a_paid_one_confirms() {
    let (mut w, placed) = window_with(1, &[(1, 1)]);
    run(&mut w, &queue(2, 1), placed);
    run(&mut w, &queue(3, 1), placed);
    let events = run(&mut w, &cancel(1), placed);
    assert_eq!(offered(&events), vec![rid(2)]);
    // The offer lapses: the same decision that expires it offers the slot to the next.
    let later = placed + Duration::seconds(i64::from(OFFER_SECS));
    let events = run(&mut w, &Command::ExpireDue, later);
    assert!(matches!(events[0], WindowEvent::HoldExpired { .. }));
    assert_eq!(offered(&events), vec![rid(3)]);
    assert_eq!(status(&w, 2), ReservationStatus::Expired);
    run(&mut w, &confirm(3, "pi_offer"), later);
    assert_eq!(status(&w, 3), ReservationStatus::Confirmed);
}

#[test]
fn leaving_the_queue_unblocks_it_and_the_queue_closes_when_the_window_ends() {
    let (mut w, placed) = window_with(2, &[(1, 1), (2, 1)]);
    run(&mut w, &queue(3, 2), placed);
    run(&mut w, &queue(4, 1), placed);
    run(&mut w, &queue(5, 2), placed);
    let events = run(&mut w, &cancel(1), placed);
    assert!(offered(&events).is_empty(), "the head wants two: {events:?}");
    // The head leaves: the slot goes to the next in the same decision.
    let events = run(&mut w, &cancel(3), placed);
    assert!(matches!(events[0], WindowEvent::WaitlistLeft { .. }));
    assert_eq!(offered(&events), vec![rid(4)]);
    assert_eq!(status(&w, 3), ReservationStatus::Cancelled);
    assert_eq!(
        w.decide(&confirm(5, "pi_early"), placed),
        Err(Rejection::NotActive { status: ReservationStatus::Waitlisted })
    );
    // The window ends with 5 still queued: it expires, and nothing is offered any more.
    let end = key().end();
    assert_eq!(w.earliest_expiry(), Some(placed + Duration::seconds(i64::from(OFFER_SECS))));
    run(&mut w, &confirm(4, "pi_offer"), placed);
    run(&mut w, &confirm(2, "pi_hold"), placed);
    // No hold left to expire: the window still changes by itself when the queue closes.
    assert_eq!(w.earliest_expiry(), Some(end));
    let events = run(&mut w, &Command::ExpireDue, end);
    assert!(events.iter().any(|e| matches!(e, WindowEvent::WaitlistExpired { .. })), "{events:?}");
    assert_eq!(status(&w, 5), ReservationStatus::Expired);
    assert!(w.waitlist().is_empty());
    assert_eq!(w.counts_at(end).waitlisted, 0);
}

#[test]
fn a_raised_capacity_is_offered_to_the_queue() {
    let (mut w, placed) = window_with(1, &[(1, 1)]);
    run(&mut w, &queue(2, 1), placed);
    let events = run(&mut w, &Command::ChangeCapacity { capacity: 2, by: OPERATOR.into() }, placed);
    assert_eq!(offered(&events), vec![rid(2)]);
}

#[test]
fn a_late_payment_is_honoured_before_the_queue() {
    let (mut w, placed) = window_with(1, &[(1, 1)]);
    run(&mut w, &queue(2, 1), placed);
    let late = placed + ttl();
    let events = run(&mut w, &pay(1, "pi_late", Some(UNIT_MINOR), Some(CURRENCY)), late);
    assert!(matches!(events[..], [WindowEvent::HoldExpired { .. }, WindowEvent::HoldConfirmed { late: true, .. }]));
    assert_eq!(status(&w, 2), ReservationStatus::Waitlisted);
}
