//! The checkout table (`OpenCheckout`, `CloseCheckout`) and `checkout_to_close`, row by
//! row. `window_with` places holds at 20:40 that expire at 21:10; Stripe keeps a page
//! payable for at least 30 minutes, so the pages here outlive their holds.

use super::*;

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
