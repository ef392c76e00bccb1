//! The payment table (`RecordPayment`; `RecordRefund` is in `refunds`), row by row. `window_with` places
//! holds at 20:40 that expire at 21:10; the window is 21:00..21:15. A slot costs 500 eur.

use super::*;

pub(super) fn owed(
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

pub(super) fn paid(id: u8, intent: &str, late: bool, now: DateTime<Utc>) -> WindowEvent {
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
