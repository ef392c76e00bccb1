//! Random scripts checked step by step against the reference model: a window never
//! oversells and is the fold of its events; and the scripts are not vacuous.

use super::*;

/// Runs one script against `Window` and the model, checking every property after every
/// command; returns the outcomes it reached.
pub(super) fn check_script((capacity, lead_minutes, script): Script) -> Result<BTreeSet<&'static str>, TestCaseError> {
    let mut window = Window::unopened(key(), capacity);
    let mut model = Model { capacity, opened: false, reservations: BTreeMap::new(), queue: Vec::new() };
    let mut log: Vec<WindowEvent> = Vec::new();
    let mut now = key().start - Duration::minutes(lead_minutes);
    let mut outcomes = BTreeSet::new();
    // Payments that took effect (HoldConfirmed or RefundOwed), and refunds issued.
    let mut took_effect: BTreeSet<(ReservationId, String)> = BTreeSet::new();
    let mut issued: BTreeSet<(ReservationId, String)> = BTreeSet::new();
    // Reservations whose checkout page opened, and whose page closed.
    let mut checkouts_opened: BTreeSet<ReservationId> = BTreeSet::new();
    let mut checkouts_closed: BTreeSet<ReservationId> = BTreeSet::new();
    // Waitlist entries offered their slots: each at most once.
    let mut offered: BTreeSet<ReservationId> = BTreeSet::new();

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
        // While entries queue, a newcomer gets nothing: freed slots go to the queue.
        let queued: u32 = if now < key().end() { model.queue.iter().map(|e| e.1).sum() } else { 0 };
        prop_assert_eq!(counts.waitlisted, queued);
        let free = model.capacity.saturating_sub(counts.held + counts.confirmed);
        prop_assert_eq!(counts.available, if queued > 0 { 0 } else { free });

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
            let granted = decided.as_ref().is_ok_and(|events| events.iter().any(grants_slots));
            prop_assert!(!granted, "an overcommitted window granted a hold: {decided:?}");
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
                        WindowEvent::RefundIssued { reservation_id, payment_intent, .. }
                        | WindowEvent::RefundSettled { reservation_id, payment_intent, .. } => {
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
                        WindowEvent::WaitlistOffered { reservation_id, .. } => {
                            // Strict FIFO: only the head is served, and nobody twice.
                            let head = window.waitlist().entries().next().map(|e| e.id);
                            prop_assert_eq!(head, Some(*reservation_id), "an offer passed the queue: {:?}", event);
                            prop_assert!(offered.insert(*reservation_id), "offered twice: {:?}", event);
                            outcomes.insert("waitlist: offered");
                        }
                        WindowEvent::HoldExpired { reservation_id, .. } if offered.contains(reservation_id) => {
                            outcomes.insert("waitlist: an offer lapsed");
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
                // What the command itself did: expiries before it and the queue served
                // after it are the window's own.
                let own = |e: &&WindowEvent| {
                    !matches!(
                        e,
                        WindowEvent::HoldExpired { .. }
                            | WindowEvent::WaitlistOffered { .. }
                            | WindowEvent::WaitlistExpired { .. }
                    )
                };
                let effects: Vec<_> = events.iter().filter(own).collect();
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
                // Offers go out in the decision that frees the slots: a head left waiting
                // does not fit what is free.
                let counts = window.counts_at(now);
                if let Some(head) = window.waitlist().entries().next() {
                    let free = counts.capacity.saturating_sub(counts.held + counts.confirmed);
                    prop_assert!(now < key().end(), "the queue outlived its window");
                    prop_assert!(head.quantity > free, "head of {} left waiting with {} free", head.quantity, free);
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
            let view = ReservationView::of(&key(), live, &PriceHistory::starting(price()), now);
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
            } else if matches!(r.status, ReservationStatus::Held | ReservationStatus::Waitlisted) && now >= r.expires_at
            {
                ReservationStatus::Expired
            } else {
                r.status
            };
            prop_assert_eq!(public, expected, "public status of {} at {}", id, now);
            prop_assert_eq!(ReservationView::of(&key(), live, &PriceHistory::starting(price()), now).status, expected);
        }
        prop_assert_eq!(&rebuild(capacity, &log), &window, "rebuilt window differs from the live one");
        // A snapshot of the window (V3 when it has waitlist state) restores it exactly.
        prop_assert_eq!(&through_snapshot(&window), &window, "the window differs after a snapshot");
    }
    Ok(outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_window_never_oversells_and_is_the_fold_of_its_events(script in script()) {
        check_script(script)?;
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
        "refund failed: recorded",
        "refund failed: again",
        "refund retry: retried",
        "refund retry: none failed",
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

/// `window` written into a snapshot and read back.
fn through_snapshot(window: &Window) -> Window {
    use qskip::store::snapshot::{SnapshotState, convert};
    let windows = BTreeMap::from([(window.key().clone(), window.clone())]);
    let state = SnapshotState { last_seq: 1, taken_at: key().start, venues: BTreeMap::new(), windows };
    let mut restored = convert::from_wire(convert::to_wire(&state)).expect("a snapshot of a live window restores");
    restored.windows.remove(window.key()).expect("the window is in its snapshot")
}
