//! The refund rows of the payment table (`RecordRefund`), and how refunds owed and
//! issued shape a reservation's status and the audit. Same fixtures as `payments`.

use super::*;

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
        [WindowEvent::RefundSettled {
            reservation_id: rid(1),
            payment_intent: "pi_1".into(),
            refund_ids: vec!["re_1".into()],
            refunded_minor: None,
            settled_at: later
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
    assert_eq!(
        ReservationView::of(&key(), r, &PriceHistory::starting(price()), now).status,
        ReservationStatus::Confirmed
    );
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
    assert_eq!(
        ReservationView::of(&key(), w.reservation(&rid(1)).unwrap(), &PriceHistory::starting(price()), now).status,
        ReservationStatus::Refunded
    );
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
