//! Reserving with `provider = "stripe"` against a real local fake of Stripe (wiremock):
//! the session-create request on the wire, retries, failure releasing the hold, and the
//! session-expiry worker closing pages of holds that ended.

use std::collections::BTreeSet;

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{AppOptions, TestApp, VENUE, assert_error, created, eventually, spawn_app_with};
use crate::stripe_fake::{session_expiry_pass, stripe_checkout_config};

/// Stripe as the payment provider, at the fake on `api_base`.
async fn stripe_app(api_base: &str, capacity: u32) -> TestApp {
    spawn_app_with(AppOptions::capacity(capacity).payments(stripe_checkout_config(api_base))).await
}

fn session_json(id: &str, expires_at: i64) -> Value {
    json!({ "id": id, "object": "checkout.session", "url": format!("https://checkout.stripe.test/c/pay/{id}"),
        "expires_at": expires_at, "status": "open", "payment_status": "unpaid", "payment_intent": null,
        "mode": "payment", "livemode": false })
}

async fn mount_session(server: &MockServer, id: &str) {
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json(id, 1_900_000_000)))
        .mount(server)
        .await;
}

async fn requests_to(server: &MockServer, to: &str) -> Vec<Request> {
    let all = server.received_requests().await.expect("recording is on");
    all.into_iter().filter(|r| r.url.path() == to).collect()
}

fn form_pairs(request: &Request) -> BTreeSet<(String, String)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&request.body).expect("a form body");
    pairs.into_iter().collect()
}

/// Answers a session create with a session named after the reservation.
struct SessionPerReservation;

impl wiremock::Respond for SessionPerReservation {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let reservation = form_pairs(request)
            .into_iter()
            .find(|(k, _)| k == "client_reference_id")
            .map(|(_, v)| v)
            .expect("client_reference_id is sent");
        // Stripe ids are letters, digits and underscores.
        let id = format!("cs_{}", reservation.replace('-', ""));
        ResponseTemplate::new(200).set_body_json(session_json(&id, 1_900_000_000))
    }
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request.headers.get(name).unwrap_or_else(|| panic!("{name} is sent")).to_str().expect("ASCII header")
}

#[actix_web::test]
async fn reserving_opens_a_checkout_session_with_exactly_the_expected_request() {
    let server = MockServer::start().await;
    mount_session(&server, "cs_test_1").await;
    let app = stripe_app(&server.uri(), 3).await;
    let start = app.window(2);
    let r = created(app.reserve_in(VENUE, start, 2).await).await;
    assert_eq!(r.checkout_url, "https://checkout.stripe.test/c/pay/cs_test_1");

    let sent = requests_to(&server, "/v1/checkout/sessions").await;
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(header(request, "Authorization"), "Bearer sk_test_fake");
    assert_eq!(header(request, "Content-Type"), "application/x-www-form-urlencoded");
    assert_eq!(header(request, "Idempotency-Key"), format!("checkout:{}", r.id));
    let status_url = format!("{}/reservations/{}", app.address, r.id);
    let expires_at = (app.now() + Duration::minutes(31)).timestamp().to_string();
    let expected: BTreeSet<(String, String)> = [
        ("mode", "payment".to_owned()),
        ("success_url", status_url.clone()),
        ("cancel_url", status_url),
        ("line_items[0][price_data][currency]", "eur".to_owned()),
        ("line_items[0][price_data][unit_amount]", "500".to_owned()),
        ("line_items[0][price_data][product_data][name]", "Queue skip, Test venue bar, Sat 28 Nov 12:30".to_owned()),
        ("line_items[0][quantity]", "2".to_owned()),
        ("client_reference_id", r.id.clone()),
        ("metadata[reservation_id]", r.id.clone()),
        ("payment_intent_data[metadata][reservation_id]", r.id.clone()),
        ("expires_at", expires_at),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(form_pairs(request), expected);
    assert_eq!(app.window_counts(VENUE, start).await.held, 2);
}

#[actix_web::test]
async fn a_500_is_retried_byte_for_byte_and_a_keyed_retry_reuses_the_page() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"type": "api_error"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_session(&server, "cs_test_2").await;
    let app = stripe_app(&server.uri(), 3).await;
    let body = json!({ "window_start": crate::helpers::rfc3339(app.window(1)) });
    let first = created(app.reserve_at(VENUE, &body, Some("order-1")).await).await;
    let again = created(app.reserve_at(VENUE, &body, Some("order-1")).await).await;
    assert_eq!((again.id.as_str(), again.checkout_url.as_str()), (first.id.as_str(), first.checkout_url.as_str()));
    let sent = requests_to(&server, "/v1/checkout/sessions").await;
    assert_eq!(sent.len(), 2, "one failure, one retry, nothing for the keyed replay");
    assert_eq!(sent[0].body, sent[1].body);
    assert_eq!(header(&sent[0], "Idempotency-Key"), header(&sent[1], "Idempotency-Key"));
}

#[actix_web::test]
async fn a_400_is_not_retried_and_leaves_nothing_held() {
    let server = MockServer::start().await;
    let error = json!({"error": {"type": "invalid_request_error", "message": "Invalid expires_at"}});
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error))
        .mount(&server)
        .await;
    let app = stripe_app(&server.uri(), 1).await;
    let start = app.window(1);
    let response = app.reserve_in(VENUE, start, 1).await;
    assert!(response.headers().contains_key("Retry-After"));
    assert_error(response, StatusCode::SERVICE_UNAVAILABLE, "payment_provider_unavailable").await;
    assert_eq!(requests_to(&server, "/v1/checkout/sessions").await.len(), 1);
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.held, counts.available), (0, 1));
}

#[actix_web::test]
async fn stripe_down_is_a_503_and_leaves_nothing_held() {
    // A port that was just free: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = stripe_app(&format!("http://{closed}"), 1).await;
    let start = app.window(1);
    assert_error(
        app.reserve_in(VENUE, start, 1).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "payment_provider_unavailable",
    )
    .await;
    assert_eq!(app.window_counts(VENUE, start).await.held, 0);
}

#[actix_web::test]
async fn pages_of_cancelled_and_expired_holds_are_closed_at_stripe_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(SessionPerReservation)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/v1/checkout/sessions/cs_[0-9a-f]+/expire$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json("cs_expired", 1_900_000_000)))
        .mount(&server)
        .await;
    let app = stripe_app(&server.uri(), 3).await;
    let start = app.window(4);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(created(app.reserve_in(VENUE, start, 1).await).await.id);
    }
    let session = |id: &str| format!("cs_{}", id.replace('-', ""));
    let expire_path = |id: &str| format!("/v1/checkout/sessions/{}/expire", session(id));

    // One hold is cancelled, one paid, and the third expires (the worker may see them
    // in one pass or several: it scans on its own wall-clock interval).
    assert_eq!(app.cancel(&ids[0]).await.status(), StatusCode::OK);
    let paid =
        qskip::domain::Payment { intent: "pi_paid".into(), amount_minor: Some(500), currency: Some("eur".into()) };
    app.services.payments.record_payment(ids[2].parse().unwrap(), paid).await.expect("payment recorded");
    app.advance(Duration::minutes(31));

    // Cancelled: its page is expired at Stripe, with a stable key. Expired: likewise.
    let calls = wait_for_calls(&server, &expire_path(&ids[0])).await;
    assert_eq!(header(&calls[0], "Idempotency-Key"), format!("expire:{}", session(&ids[0])));
    assert_eq!(header(&calls[0], "Content-Type"), "application/x-www-form-urlencoded");
    wait_for_calls(&server, &expire_path(&ids[1])).await;
    // Paid: its page is closed in the log without a call.

    eventually("every page to be closed in the log", || async {
        let open = app.services.log().open_checkouts().expect("the log is readable");
        if open.is_empty() { Ok(()) } else { Err(open) }
    })
    .await;

    // Two more passes: nothing is expired twice, the paid page never.
    for _ in 0..2 {
        assert_eq!(session_expiry_pass(&app, &server.uri()).await, 0, "a closed page is closed again");
    }
    assert_eq!(requests_to(&server, &expire_path(&ids[0])).await.len(), 1);
    assert_eq!(requests_to(&server, &expire_path(&ids[1])).await.len(), 1);
    assert!(requests_to(&server, &expire_path(&ids[2])).await.is_empty());
    assert!(app.services.log().open_checkouts().unwrap().is_empty(), "every page is closed in the log");
}

async fn wait_for_calls(server: &MockServer, to: &str) -> Vec<Request> {
    eventually(&format!("a call to {to}"), || async {
        let calls = requests_to(server, to).await;
        if calls.is_empty() { Err("no call yet") } else { Ok(calls) }
    })
    .await
}

/// Issue 11, defect 4: a keyed retry while the first request waits on a slow, failing
/// Stripe is told `409 idempotency_in_progress`, and after it the first request's own
/// outcome (`503`, nothing held) - never `201 held` for a hold about to be released.
#[actix_web::test]
async fn a_keyed_retry_during_a_failing_checkout_never_sees_the_hold_in_between() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"type": "api_error"}}))
                .set_delay(std::time::Duration::from_millis(700)),
        )
        .mount(&server)
        .await;
    let app = stripe_app(&server.uri(), 3).await;
    let body = json!({ "window_start": crate::helpers::rfc3339(app.window(1)) });
    let first = {
        let (api, body) = (app.api.clone(), body.clone());
        actix_web::rt::spawn(async move { api.reserve_at(VENUE, &body, Some("order-slow")).await })
    };
    // The hold is placed and Stripe is being asked.
    wait_for_calls(&server, "/v1/checkout/sessions").await;
    let during = app.reserve_at(VENUE, &body, Some("order-slow")).await;
    assert_error(during, StatusCode::CONFLICT, "idempotency_in_progress").await;
    let first = first.await.expect("the first request ran");
    assert_error(first, StatusCode::SERVICE_UNAVAILABLE, "payment_provider_unavailable").await;
    let after = app.reserve_at(VENUE, &body, Some("order-slow")).await;
    assert_error(after, StatusCode::SERVICE_UNAVAILABLE, "payment_provider_unavailable").await;
    assert_eq!(app.window_counts(VENUE, app.window(1)).await.held, 0, "nothing is left held");
}
