//! Unit tests of the webhook decision table (kept apart so `event.rs` stays short).

use super::*;

fn session(payment_status: &str) -> CheckoutSessionObject {
    CheckoutSessionObject {
        id: "cs_test_1".into(),
        status: Some("complete".into()),
        payment_status: Some(payment_status.into()),
        client_reference_id: Some("res_42".into()),
        metadata: BTreeMap::from([("reservation_id".to_owned(), "res_42".to_owned())]),
        payment_intent: Some("pi_1".into()),
        amount_total: Some(3000),
        currency: Some("eur".into()),
    }
}

fn confirm() -> WebhookAction {
    WebhookAction::Confirm {
        reservation_id: "res_42".into(),
        session_id: "cs_test_1".into(),
        payment_intent: Some("pi_1".into()),
        amount_total: Some(3000),
        currency: Some("eur".into()),
        event_id: "evt_1".into(),
        created: 1_700_000_000,
    }
}

fn decide_for(kind: SessionEvent, session: &CheckoutSessionObject) -> WebhookAction {
    decide(kind, "evt_1", 1_700_000_000, session)
}

fn release() -> WebhookAction {
    WebhookAction::Release { reservation_id: "res_42".into(), session_id: "cs_test_1".into(), event_id: "evt_1".into() }
}

#[test]
fn paid_completion_and_async_success_confirm() {
    assert_eq!(decide_for(SessionEvent::Completed, &session("paid")), confirm());
    assert_eq!(decide_for(SessionEvent::AsyncPaymentSucceeded, &session("paid")), confirm());
}

#[test]
fn unpaid_completion_keeps_waiting() {
    let expected = WebhookAction::KeepWaiting {
        reservation_id: "res_42".into(),
        session_id: "cs_test_1".into(),
        event_id: "evt_1".into(),
    };
    assert_eq!(decide_for(SessionEvent::Completed, &session("unpaid")), expected);
}

#[test]
fn async_failure_and_expiry_release() {
    assert_eq!(decide_for(SessionEvent::AsyncPaymentFailed, &session("unpaid")), release());
    let mut expired = session("unpaid");
    expired.status = Some("expired".into());
    expired.payment_intent = None;
    assert_eq!(decide_for(SessionEvent::Expired, &expired), release());
}

#[test]
fn anomalies_are_ignored_with_a_reason() {
    assert_eq!(
        decide_for(SessionEvent::Completed, &session("no_payment_required")),
        WebhookAction::Ignore(IgnoreReason::NoPaymentRequired)
    );
    assert_eq!(
        decide_for(SessionEvent::AsyncPaymentSucceeded, &session("unpaid")),
        WebhookAction::Ignore(IgnoreReason::UnexpectedPaymentStatus(Some("unpaid".into())))
    );
    let mut conflicting = session("paid");
    conflicting.client_reference_id = Some("res_other".into());
    assert_eq!(
        decide_for(SessionEvent::Completed, &conflicting),
        WebhookAction::Ignore(IgnoreReason::ConflictingReservationIds)
    );
}

#[test]
fn reservation_id_comes_from_either_field() {
    let mut only_metadata = session("paid");
    only_metadata.client_reference_id = None;
    assert_eq!(decide_for(SessionEvent::Completed, &only_metadata), confirm());
    let mut only_reference = session("paid");
    only_reference.metadata.clear();
    assert_eq!(decide_for(SessionEvent::Completed, &only_reference), confirm());
    let mut neither = only_reference;
    neither.client_reference_id = Some(String::new());
    assert_eq!(decide_for(SessionEvent::Completed, &neither), WebhookAction::Ignore(IgnoreReason::NoReservationId));
}

/// A pretty-printed body as Stripe sends it, with fields qskip does not read.
const COMPLETED_EVENT: &str = r#"{
  "id": "evt_1",
  "object": "event",
  "api_version": "2023-08-16",
  "created": 1700000000,
  "data": {
    "object": {
      "id": "cs_test_1",
      "object": "checkout.session",
      "amount_total": 3000,
      "client_reference_id": "res_42",
      "currency": "eur",
      "customer_details": { "email": "a@example.test" },
      "metadata": { "reservation_id": "res_42" },
      "mode": "payment",
      "payment_intent": "pi_1",
      "payment_status": "paid",
      "status": "complete"
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": { "id": null, "idempotency_key": null },
  "type": "checkout.session.completed"
}"#;

#[test]
fn a_real_shaped_payload_maps_to_confirm() {
    assert_eq!(action_for_payload(COMPLETED_EVENT.as_bytes()).expect("the fixture parses"), confirm());
}

#[test]
fn other_event_types_are_ignored_without_reading_the_object() {
    let payload = r#"{"id":"evt_2","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1"}}}"#;
    assert_eq!(
        action_for_payload(payload.as_bytes()).expect("an unrelated event parses"),
        WebhookAction::Ignore(IgnoreReason::UnhandledType("payment_intent.succeeded".into()))
    );
}

#[test]
fn a_session_event_without_a_session_is_an_error() {
    let payload = r#"{"id":"evt_3","type":"checkout.session.completed","created":1,"data":{"object":{"no_id":true}}}"#;
    assert!(action_for_payload(payload.as_bytes()).is_err());
    assert!(action_for_payload(b"not json").is_err());
}
