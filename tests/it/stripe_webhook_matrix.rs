//! The Stripe webhook as a matrix, over the real server (in-process, random port, real
//! sled) with wiremock as Stripe's API: every way a `Stripe-Signature` can be right or
//! wrong (STRIPE.md 1.5), duplicate and concurrent deliveries, events out of order, and
//! the refund worker riding out Stripe 5xx answers (STRIPE.md 1.3, 1.4, 1.6, 1.7).
//!
//! "No state change" is checked on the log itself: its last seq does not move.

use chrono::Duration;
use qskip::domain::{RefundReason, ReservationId, WindowEvent};
use qskip::store::Record;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{ReservationJson, TestApp, VENUE, all, created};
use crate::stripe_fake::{OLD_SECRET, SECRET, event, mount_empty_refund_list, refund_object, refund_pass, stripe_app};

fn paid(event_id: &str, reservation: &str, intent: &str) -> String {
    event(event_id, "checkout.session.completed", reservation, intent, "paid", 500)
}

fn sign(body: &[u8], secret: &str, t: i64) -> String {
    qskip::stripe::signature::sign(body, secret, t)
}

/// The hex of the `v1` in a header made by [`sign`].
fn v1_of(header: &str) -> String {
    header.split_once(",v1=").expect("sign() writes t=…,v1=…").1.to_owned()
}

/// `POST /v1/webhooks/stripe` with exactly these bytes and this header (if any).
async fn post_webhook(app: &TestApp, body: Vec<u8>, signature: Option<String>) -> reqwest::Response {
    let mut request =
        app.api.client.post(app.url("/v1/webhooks/stripe")).header("Content-Type", "application/json").body(body);
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    request.send().await.expect("the webhook is answered")
}

/// Delivers a correctly signed event and asserts 200; returns the JSON answer.
async fn deliver(app: &TestApp, body: &str) -> Value {
    let signature = sign(body.as_bytes(), SECRET, app.now().timestamp());
    let response = post_webhook(app, body.as_bytes().to_vec(), Some(signature)).await;
    assert_eq!(response.status(), StatusCode::OK, "webhook status");
    response.json().await.expect("the webhook answers JSON")
}

fn last_seq(app: &TestApp) -> u64 {
    app.services.log().last_seq().expect("the log is readable")
}

/// The reservation a window event is about (`None` for `WindowOpened`).
fn reservation_of(event: &WindowEvent) -> Option<ReservationId> {
    match event {
        WindowEvent::WindowOpened { .. } | WindowEvent::CapacityChanged { .. } => None,
        WindowEvent::HoldPlaced { reservation_id, .. }
        | WindowEvent::HoldConfirmed { reservation_id, .. }
        | WindowEvent::HoldCancelled { reservation_id, .. }
        | WindowEvent::HoldExpired { reservation_id, .. }
        | WindowEvent::RefundOwed { reservation_id, .. }
        | WindowEvent::CheckoutOpened { reservation_id, .. }
        | WindowEvent::CheckoutClosed { reservation_id, .. }
        | WindowEvent::RefundIssued { reservation_id, .. }
        | WindowEvent::RefundSettled { reservation_id, .. }
        | WindowEvent::RefundFailed { reservation_id, .. }
        | WindowEvent::RefundRetried { reservation_id, .. }
        | WindowEvent::HoldReleased { reservation_id, .. }
        | WindowEvent::WaitlistJoined { reservation_id, .. }
        | WindowEvent::WaitlistOffered { reservation_id, .. }
        | WindowEvent::WaitlistLeft { reservation_id, .. }
        | WindowEvent::WaitlistExpired { reservation_id, .. } => Some(*reservation_id),
    }
}

/// Every window event of one reservation, in commit order, read from the sled log.
fn events_of(app: &TestApp, id: &str) -> Vec<WindowEvent> {
    app.services
        .log()
        .iter()
        .map(|entry| entry.expect("every record decodes"))
        .filter_map(|(_, _, record)| match record {
            Record::Window(_, event) if reservation_of(&event).is_some_and(|r| r.to_string() == id) => Some(event),
            _ => None,
        })
        .collect()
}

fn count(events: &[WindowEvent], what: fn(&WindowEvent) -> bool) -> usize {
    events.iter().filter(|e| what(e)).count()
}

fn is_confirmed(e: &WindowEvent) -> bool {
    matches!(e, WindowEvent::HoldConfirmed { .. })
}

fn is_refund_owed(e: &WindowEvent) -> bool {
    matches!(e, WindowEvent::RefundOwed { .. })
}

fn is_refund_issued(e: &WindowEvent) -> bool {
    matches!(e, WindowEvent::RefundSettled { .. })
}

async fn raw(app: &TestApp, id: &str) -> Value {
    app.get_reservation(id).await.json().await.expect("reservation JSON")
}

/// Every request the fake received for this method on `/v1/refunds`.
async fn refund_calls(server: &MockServer, verb: &str) -> Vec<Request> {
    let received = server.received_requests().await.expect("wiremock records requests");
    received.into_iter().filter(|r| r.method.as_str() == verb && r.url.path() == "/v1/refunds").collect()
}

fn header(request: &Request, name: &str) -> String {
    request.headers.get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().expect("ASCII header").to_owned()
}

/// A reservation whose hold ended and whose last slot another customer took: any
/// payment for it now is owed back (`sold_out`). Returns (late, winner, window start).
async fn sold_out_late_payer(app: &TestApp) -> (ReservationJson, ReservationJson, chrono::DateTime<chrono::Utc>) {
    let start = app.window(4);
    let late = created(app.reserve_in(VENUE, start, 1).await).await;
    app.advance(Duration::minutes(31));
    let winner = created(app.reserve_in(VENUE, start, 1).await).await;
    (late, winner, start)
}

// ---------------------------------------------------------------------------------
// 1. Signature matrix.

/// What one case sends: the `Stripe-Signature` header (if any) and the raw body.
struct Delivery {
    signature: Option<String>,
    body: Vec<u8>,
}

/// How the server must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200 `{outcome: "confirmed"}`, the reservation confirmed by one new record.
    Confirmed,
    /// 400 with this error code; the reservation stays held and the log does not move.
    Rejected(&'static str),
}

struct Case {
    name: &'static str,
    /// From the signed pretty body and the server's "now" (unix seconds).
    build: fn(&str, i64) -> Delivery,
    expect: Expect,
}

fn signed(signature: String, body: &str) -> Delivery {
    Delivery { signature: Some(signature), body: body.as_bytes().to_vec() }
}

const INVALID_SIGNATURE: Expect = Expect::Rejected("invalid_signature");

fn signature_cases() -> Vec<Case> {
    vec![
        Case { name: "valid", build: |b, now| signed(sign(b.as_bytes(), SECRET, now), b), expect: Expect::Confirmed },
        Case {
            name: "rolled secret: signed with the older of two configured secrets",
            build: |b, now| signed(sign(b.as_bytes(), OLD_SECRET, now), b),
            expect: Expect::Confirmed,
        },
        Case {
            name: "two v1, only the second valid",
            build: |b, now| {
                let wrong = v1_of(&sign(b.as_bytes(), "whsec_someone_else", now));
                let good = v1_of(&sign(b.as_bytes(), SECRET, now));
                signed(format!("t={now},v1={wrong},v1={good}"), b)
            },
            expect: Expect::Confirmed,
        },
        Case {
            name: "one v1 per active secret plus Stripe's fake test-mode v0",
            build: |b, now| {
                let current = v1_of(&sign(b.as_bytes(), SECRET, now));
                let old = v1_of(&sign(b.as_bytes(), OLD_SECRET, now));
                signed(
                    format!(
                        "t={now},v1={current},v1={old},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
                    ),
                    b,
                )
            },
            expect: Expect::Confirmed,
        },
        Case {
            name: "future timestamp within tolerance (t = now + 60; the check is one-sided)",
            build: |b, now| signed(sign(b.as_bytes(), SECRET, now + 60), b),
            expect: Expect::Confirmed,
        },
        Case {
            name: "timestamp exactly at the tolerance (t = now - 300)",
            build: |b, now| signed(sign(b.as_bytes(), SECRET, now - 300), b),
            expect: Expect::Confirmed,
        },
        Case {
            name: "wrong secret",
            build: |b, now| signed(sign(b.as_bytes(), "whsec_not_ours", now), b),
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "secret without its whsec_ prefix as the HMAC key",
            build: |b, now| signed(sign(b.as_bytes(), SECRET.trim_start_matches("whsec_"), now), b),
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "tampered body: one byte changed after signing (amount 500 -> 600)",
            build: |b, now| {
                let signature = sign(b.as_bytes(), SECRET, now);
                let tampered = b.replacen("\"amount_total\": 500", "\"amount_total\": 600", 1);
                assert_eq!(tampered.len(), b.len(), "one byte changed");
                assert_ne!(tampered, b, "the amount was found");
                Delivery { signature: Some(signature), body: tampered.into_bytes() }
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "re-serialised body: same JSON, compact",
            build: |b, now| {
                let signature = sign(b.as_bytes(), SECRET, now);
                let value: Value = serde_json::from_str(b).expect("the event is JSON");
                let compact = serde_json::to_string(&value).expect("serializes");
                assert_ne!(compact, b);
                Delivery { signature: Some(signature), body: compact.into_bytes() }
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "stale timestamp (t = now - 301)",
            build: |b, now| signed(sign(b.as_bytes(), SECRET, now - 301), b),
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "timestamp in the header changed after signing (replay with a fresh t)",
            build: |b, now| {
                let v1 = v1_of(&sign(b.as_bytes(), SECRET, now - 600));
                signed(format!("t={now},v1={v1}"), b)
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "missing header",
            build: |b, _| Delivery { signature: None, body: b.as_bytes().to_vec() },
            expect: INVALID_SIGNATURE,
        },
        Case { name: "empty header", build: |b, _| signed(String::new(), b), expect: INVALID_SIGNATURE },
        Case {
            name: "malformed header: garbage",
            build: |b, _| signed("garbage".into(), b),
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "malformed header: t=abc with a valid v1",
            build: |b, now| {
                let v1 = v1_of(&sign(b.as_bytes(), SECRET, now));
                signed(format!("t=abc,v1={v1}"), b)
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "no timestamp, valid v1",
            build: |b, now| {
                let v1 = v1_of(&sign(b.as_bytes(), SECRET, now));
                signed(format!("v1={v1}"), b)
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "only v0 (carrying the right HMAC)",
            build: |b, now| {
                let v = v1_of(&sign(b.as_bytes(), SECRET, now));
                signed(format!("t={now},v0={v}"), b)
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "v1 truncated by one hex digit",
            build: |b, now| {
                let v1 = v1_of(&sign(b.as_bytes(), SECRET, now));
                signed(format!("t={now},v1={}", &v1[..v1.len() - 1]), b)
            },
            expect: INVALID_SIGNATURE,
        },
        Case {
            name: "empty body carrying the event's signature",
            build: |b, now| Delivery { signature: Some(sign(b.as_bytes(), SECRET, now)), body: Vec::new() },
            expect: INVALID_SIGNATURE,
        },
        Case {
            // The signature verifies (it covers the empty payload), so the refusal is the
            // parse: the handler verifies first, then parses.
            name: "empty body, validly signed",
            build: |_, now| Delivery { signature: Some(sign(b"", SECRET, now)), body: Vec::new() },
            expect: Expect::Rejected("invalid_event"),
        },
    ]
}

/// Runs one case against its own fresh hold; returns a description of what went wrong.
async fn run_case(app: &TestApp, n: usize, case: &Case) -> Option<String> {
    let r = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let body = paid(&format!("evt_matrix_{n}"), &r.id, &format!("pi_matrix_{n}"));
    let delivery = (case.build)(&body, app.now().timestamp());
    let before = last_seq(app);
    let response = post_webhook(app, delivery.body, delivery.signature).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    let after = last_seq(app);
    let reservation = app.reservation(&r.id).await;
    let confirmations = count(&events_of(app, &r.id), is_confirmed);
    let fail = |what: String| Some(format!("[{}] {what} (status {status}, answer {answer})", case.name));
    match case.expect {
        Expect::Confirmed => {
            if status != StatusCode::OK || answer["outcome"] != "confirmed" {
                return fail("expected 200 confirmed".into());
            }
            if reservation.status != "confirmed" || confirmations != 1 || after <= before {
                return fail(format!(
                    "expected one HoldConfirmed: status {}, {confirmations} confirmations, seq {before} -> {after}",
                    reservation.status
                ));
            }
        }
        Expect::Rejected(code) => {
            let error = &answer["error"];
            let shaped = error["code"] == code && error["message"].as_str().is_some_and(|m| !m.is_empty());
            if status != StatusCode::BAD_REQUEST || !shaped {
                return fail(format!("expected 400 {code}"));
            }
            if reservation.status != "held" || confirmations != 0 || after != before {
                return fail(format!(
                    "state changed: status {}, {confirmations} confirmations, seq {before} -> {after}",
                    reservation.status
                ));
            }
        }
    }
    None
}

#[actix_web::test]
async fn signature_matrix_accepts_exactly_the_valid_deliveries_and_bad_ones_change_nothing() {
    let server = MockServer::start().await;
    let cases = signature_cases();
    let app = stripe_app(&server, u32::try_from(cases.len()).unwrap()).await;
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        if let Some(failure) = run_case(&app, n, case).await {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    let accepted = cases.iter().filter(|c| c.expect == Expect::Confirmed).count();
    let counts = app.window_counts(VENUE, app.window(1)).await;
    assert_eq!(counts.confirmed as usize, accepted);
    assert_eq!(counts.held as usize, cases.len() - accepted);
    assert!(server.received_requests().await.unwrap().is_empty(), "a webhook never calls Stripe");
}

// ---------------------------------------------------------------------------------
// 2. Duplicates.

#[actix_web::test]
async fn the_same_event_delivered_again_and_concurrently_confirms_exactly_once() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 2).await;

    // 3 sequential deliveries, then 5 concurrent redeliveries.
    let start = app.window(1);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    let body = paid("evt_dup", &r.id, "pi_dup");
    for _ in 0..3 {
        assert_eq!(deliver(&app, &body).await["outcome"], "confirmed");
    }
    let answers = all((0..5).map(|_| deliver(&app, &body))).await;
    assert!(answers.iter().all(|a| a["outcome"] == "confirmed"), "{answers:?}");

    // 5 concurrent first deliveries: they race for the one confirmation.
    let start2 = app.window(2);
    let r2 = created(app.reserve_in(VENUE, start2, 1).await).await;
    let body2 = paid("evt_race", &r2.id, "pi_race");
    let answers = all((0..5).map(|_| deliver(&app, &body2))).await;
    assert!(answers.iter().all(|a| a["outcome"] == "confirmed"), "{answers:?}");

    for (id, start) in [(&r.id, start), (&r2.id, start2)] {
        let events = events_of(&app, id);
        assert_eq!(count(&events, is_confirmed), 1, "{id}: {events:?}");
        assert_eq!(count(&events, is_refund_owed), 0, "{id}: {events:?}");
        let counts = app.window_counts(VENUE, start).await;
        assert_eq!((counts.confirmed, counts.held), (1, 0));
        assert_eq!(raw(&app, id).await["refunds"], json!([]));
    }
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing to refund, no Stripe call");
}

// ---------------------------------------------------------------------------------
// 3. Reordering.

#[actix_web::test]
async fn expired_before_completed_with_room_confirms_late_and_refunds_nothing() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 2).await;
    let start = app.window(1);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    let expired = event("evt_exp", "checkout.session.expired", &r.id, "pi_ooo", "unpaid", 500);
    assert_eq!(deliver(&app, &expired).await["outcome"], "cancelled");
    assert_eq!(deliver(&app, &paid("evt_done", &r.id, "pi_ooo")).await["outcome"], "confirmed");

    let reservation = app.reservation(&r.id).await;
    assert_eq!(reservation.status, "confirmed");
    let events = events_of(&app, &r.id);
    assert!(
        matches!(events.last(), Some(WindowEvent::HoldConfirmed { late: true, payment_ref, .. }) if payment_ref == "pi_ooo"),
        "{events:?}"
    );
    assert_eq!(count(&events, is_refund_owed), 0, "{events:?}");
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.confirmed, counts.held), (1, 0));
    // Two refund-worker passes: still nothing owed, so Stripe hears nothing.
    assert!(app.services.log().owed_refunds().expect("the log is readable").is_empty());
    for _ in 0..2 {
        assert_eq!(refund_pass(&app, &server).await, 0);
    }
    assert!(refund_calls(&server, "POST").await.is_empty());
    assert!(refund_calls(&server, "GET").await.is_empty());
}

#[actix_web::test]
async fn completed_after_the_hold_expired_and_the_slot_was_resold_is_refunded_once_with_the_right_request() {
    let server = MockServer::start().await;
    mount_empty_refund_list(&server, "pi_resold").await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_object("re_resold", "pi_resold")))
        .expect(1)
        .mount(&server)
        .await;
    let app = stripe_app(&server, 1).await;
    let (late, winner, start) = sold_out_late_payer(&app).await;
    let body = paid("evt_resold", &late.id, "pi_resold");
    // Stripe may deliver the same event more than once, even at the same time.
    let answers = all((0..3).map(|_| deliver(&app, &body))).await;
    assert!(answers.iter().all(|a| a["outcome"] == "refund_owed" || a["outcome"] == "refunded"), "{answers:?}");
    app.wait_for_status(&late.id, "refunded").await;
    // A worker pass after the refund must not ask again.
    assert_eq!(refund_pass(&app, &server).await, 0);

    let answer = raw(&app, &late.id).await;
    assert_eq!(answer["status"], "refunded");
    assert_eq!(answer["refunds"].as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(answer["refunds"][0]["refund_id"], "re_resold");
    assert_eq!(answer["refunds"][0]["reason"], "sold_out");
    let events = events_of(&app, &late.id);
    assert_eq!(count(&events, is_confirmed), 0, "{events:?}");
    assert_eq!(count(&events, is_refund_owed), 1, "{events:?}");
    assert!(events.iter().any(|e| matches!(e, WindowEvent::RefundOwed { reason: RefundReason::SoldOut, .. })));
    let issued: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WindowEvent::RefundSettled { payment_intent, refund_ids, .. } => Some((payment_intent, &refund_ids[0])),
            _ => None,
        })
        .collect();
    assert_eq!(issued.len(), 1, "{events:?}");
    assert_eq!((issued[0].0.as_str(), issued[0].1.as_str()), ("pi_resold", "re_resold"));
    assert_eq!(app.reservation(&winner.id).await.status, "held");
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.held, counts.confirmed), (1, 0), "the refund does not touch the winner's slot");

    let posts = refund_calls(&server, "POST").await;
    assert_eq!(posts.len(), 1, "exactly one refund request reaches Stripe");
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&posts[0].body).expect("a form body");
    let expected: Vec<(String, String)> = [
        ("payment_intent", "pi_resold"),
        // Exactly what the payment took, which is what is owed back.
        ("amount", "500"),
        ("reason", "requested_by_customer"),
        ("metadata[reservation_id]", late.id.as_str()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let mut sorted = form.clone();
    sorted.sort();
    let mut expected_sorted = expected;
    expected_sorted.sort();
    assert_eq!(sorted, expected_sorted, "refund form {form:?}");
    assert_eq!(header(&posts[0], "Idempotency-Key"), format!("refund:{}:pi_resold", late.id));
    assert!(header(&posts[0], "Content-Type").starts_with("application/x-www-form-urlencoded"));
    assert_eq!(header(&posts[0], "Authorization"), "Bearer sk_test_fake");
    let lists = refund_calls(&server, "GET").await;
    assert!(!lists.is_empty(), "the worker looks for an earlier refund first");
    assert!(lists.iter().all(|l| l.url.query_pairs().any(|(k, v)| k == "payment_intent" && v == "pi_resold")));

    // A redelivery after the refund changes nothing.
    let before = last_seq(&app);
    assert_eq!(deliver(&app, &body).await["outcome"], "refunded");
    assert_eq!(last_seq(&app), before);
}

#[actix_web::test]
async fn expired_after_completed_leaves_the_confirmation_alone() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 1).await;
    let start = app.window(1);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    assert_eq!(deliver(&app, &paid("evt_c", &r.id, "pi_c")).await["outcome"], "confirmed");
    let before = last_seq(&app);
    let expired = event("evt_e", "checkout.session.expired", &r.id, "pi_c", "unpaid", 500);
    // Nothing to release and nothing for Stripe to retry: 200 with the domain's refusal.
    assert_eq!(deliver(&app, &expired).await["outcome"], "already_confirmed");
    let failed = event("evt_f", "checkout.session.async_payment_failed", &r.id, "pi_c", "unpaid", 500);
    assert_eq!(deliver(&app, &failed).await["outcome"], "already_confirmed");
    assert_eq!(last_seq(&app), before, "no record for a late expiry");
    assert_eq!(app.reservation(&r.id).await.status, "confirmed");
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.confirmed, counts.held, counts.available), (1, 0, 0));
}

// ---------------------------------------------------------------------------------
// 4. Refund worker retries.

/// The fake answers the first `failures` refund creations with 500 (the list with an
/// empty page), then succeeds. Asserts one `RefundSettled`, more than `failures` POSTs,
/// all with the debt's key and the same bytes; returns how many refund creations (POST)
/// and refund lists (GET) Stripe saw.
async fn refund_survives_5xx(failures: u64, intent: &str) -> (usize, usize) {
    let server = MockServer::start().await;
    mount_empty_refund_list(&server, intent).await;
    // Mounted first, so it answers the first `failures` POSTs; then the success mock.
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({ "error": { "type": "api_error", "message": "An unknown error occurred" } })),
        )
        .up_to_n_times(failures)
        .mount(&server)
        .await;
    let refund_id = format!("re_{intent}");
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_object(&refund_id, intent)))
        .mount(&server)
        .await;
    let app = stripe_app(&server, 1).await;
    let (late, _winner, _) = sold_out_late_payer(&app).await;
    assert_eq!(deliver(&app, &paid(&format!("evt_{intent}"), &late.id, intent)).await["outcome"], "refund_owed");
    app.wait_for_status(&late.id, "refunded").await;
    let settled = refund_calls(&server, "POST").await.len();
    // A worker pass after the refund must not ask again.
    assert_eq!(refund_pass(&app, &server).await, 0);

    let events = events_of(&app, &late.id);
    let issued: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WindowEvent::RefundSettled { payment_intent, refund_ids, .. } if payment_intent == intent => {
                Some(refund_ids.join(","))
            }
            _ => None,
        })
        .collect();
    assert_eq!(issued, std::slice::from_ref(&refund_id), "{events:?}");
    assert_eq!(count(&events, is_refund_issued), 1, "{events:?}");
    assert_eq!(raw(&app, &late.id).await["refunds"][0]["refund_id"], refund_id.as_str());

    let posts = refund_calls(&server, "POST").await;
    assert_eq!(posts.len(), settled, "no refund request after the refund was recorded");
    assert!(posts.len() as u64 > failures, "{} POSTs for {failures} failures", posts.len());
    let key = format!("refund:{}:{intent}", late.id);
    assert!(posts.iter().all(|p| header(p, "Idempotency-Key") == key), "every attempt carries {key}");
    assert!(posts.iter().all(|p| p.body == posts[0].body), "every attempt sends the same bytes");
    (posts.len(), refund_calls(&server, "GET").await.len())
}

/// Two failures: absorbed by the client's own retries (3 attempts per call).
#[actix_web::test]
async fn the_refund_worker_rides_out_stripe_5xx_with_one_key_and_one_body() {
    let (posts, lists) = refund_survives_5xx(2, "pi_retry").await;
    assert!(posts <= 6, "{posts} POSTs for 2 failures");
    assert!(lists >= 1, "the worker lists earlier refunds before creating one");
}

/// Four failures: the first call gives up after its 3 attempts, so the worker backs the
/// debt off and a later pass (a new call: list again, then create) finishes it with the
/// same key and bytes.
#[actix_web::test]
async fn the_refund_worker_retries_a_debt_across_passes_with_the_same_key() {
    let (posts, lists) = refund_survives_5xx(4, "pi_backoff").await;
    assert!(posts <= 8, "{posts} POSTs for 4 failures");
    assert!(lists >= 2, "a second pass lists earlier refunds again ({lists} lists)");
}

// ---------------------------------------------------------------------------------
// 5. Other event types.

#[actix_web::test]
async fn async_payment_failed_releases_the_hold_and_other_events_change_nothing() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 1).await;
    let start = app.window(1);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;

    let before = last_seq(&app);
    let unknown = serde_json::to_string_pretty(&json!({
        "id": "evt_pi", "object": "event", "api_version": "2026-10-28", "created": 1_764_331_500,
        "livemode": false, "pending_webhooks": 1, "type": "payment_intent.created",
        "data": { "object": { "id": "pi_new", "object": "payment_intent", "amount": 500, "currency": "eur",
            "metadata": { "reservation_id": r.id } } }
    }))
    .unwrap();
    assert_eq!(deliver(&app, &unknown).await["outcome"], "ignored");
    let unpaid = event("evt_unpaid", "checkout.session.completed", &r.id, "pi_u", "unpaid", 500);
    assert_eq!(deliver(&app, &unpaid).await["outcome"], "waiting");
    let free = event("evt_free", "checkout.session.completed", &r.id, "pi_f", "no_payment_required", 0);
    assert_eq!(deliver(&app, &free).await["outcome"], "ignored");
    assert_eq!(last_seq(&app), before, "no record for events that need nothing");
    assert_eq!(app.reservation(&r.id).await.status, "held");

    let failed = event("evt_failed", "checkout.session.async_payment_failed", &r.id, "pi_u", "unpaid", 500);
    assert_eq!(deliver(&app, &failed).await["outcome"], "cancelled");
    assert_eq!(deliver(&app, &failed).await["outcome"], "cancelled", "a redelivery is harmless");
    assert_eq!(app.reservation(&r.id).await.status, "cancelled");
    let events = events_of(&app, &r.id);
    assert_eq!(count(&events, |e| matches!(e, WindowEvent::HoldCancelled { .. })), 1, "{events:?}");
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.held, counts.confirmed, counts.available), (0, 0, 1));
    assert!(server.received_requests().await.unwrap().is_empty());
}
