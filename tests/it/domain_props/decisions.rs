//! The decision table, case by case: holds, confirmations, cancels and capacity changes.

use super::*;

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
