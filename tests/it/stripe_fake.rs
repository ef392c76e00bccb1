//! A fake Stripe for the payment tests: the config that points qskip at a wiremock
//! server, signed `checkout.session.*` events as Stripe sends them, refund mocks, and
//! single passes of the payment workers.

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Api, AppOptions, PaymentsConfig, StripeConfig, TestApp, spawn_app_with};

/// Delivers `body` to the webhook of the service behind `api`, signed with [`SECRET`]
/// at Unix time `t`.
pub async fn post_signed(api: &Api, body: &str, t: i64) -> reqwest::Response {
    let signature = qskip::stripe::signature::sign(body.as_bytes(), SECRET, t);
    let request = api.client.post(api.url("/v1/webhooks/stripe")).header("Stripe-Signature", signature);
    request.body(body.to_owned()).send().await.expect("the webhook is answered")
}

/// The endpoint's current webhook secret.
pub const SECRET: &str = "whsec_test_current_0123456789";
/// The secret being rolled out: still valid for up to 24 h (STRIPE.md 1.5).
pub const OLD_SECRET: &str = "whsec_test_previous_9876543210";
/// The API key qskip sends as `Authorization: Bearer`.
pub const SECRET_KEY: &str = "sk_test_fake";

/// `[payments.stripe]` pointing at the fake at `api_base`, with both webhook secrets.
/// The provider stays `dev`, so reserving does not call Stripe; the workers do.
pub fn stripe_config(api_base: &str) -> PaymentsConfig {
    let stripe = StripeConfig {
        api_base: api_base.into(),
        secret_key: SECRET_KEY.into(),
        webhook_secrets: vec![OLD_SECRET.into(), SECRET.into()],
    };
    PaymentsConfig { provider: None, stripe }
}

/// [`stripe_config`] with Stripe as the payment provider: reserving creates a
/// Checkout Session at the fake.
pub fn stripe_checkout_config(api_base: &str) -> PaymentsConfig {
    PaymentsConfig { provider: Some("stripe".into()), ..stripe_config(api_base) }
}

/// An in-process qskip with one venue of `capacity` per window, wired to the fake.
pub async fn stripe_app(server: &MockServer, capacity: u32) -> TestApp {
    spawn_app_with(AppOptions::capacity(capacity).payments(stripe_config(&server.uri()))).await
}

/// A `checkout.session.*` event as Stripe sends it: 2-space pretty JSON, extra fields.
pub fn event(id: &str, kind: &str, reservation: &str, intent: &str, payment_status: &str, amount: i64) -> String {
    serde_json::to_string_pretty(&json!({
        "id": id, "object": "event", "api_version": "2026-10-28", "created": 1_764_331_500,
        "livemode": false, "pending_webhooks": 1, "type": kind,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": {
            "id": format!("cs_test_{reservation}"), "object": "checkout.session", "status": "complete",
            "payment_status": payment_status, "client_reference_id": reservation,
            "metadata": { "reservation_id": reservation }, "payment_intent": intent,
            "amount_total": amount, "currency": "eur", "expires_at": 1_764_333_360, "mode": "payment",
            "livemode": false
        }}
    }))
    .expect("events serialize")
}

/// An empty page of `GET /v1/refunds`.
pub fn empty_refund_list() -> Value {
    json!({ "object": "list", "data": [], "has_more": false, "url": "/v1/refunds" })
}

/// A succeeded refund object.
pub fn refund_object(id: &str, intent: &str) -> Value {
    json!({ "id": id, "object": "refund", "status": "succeeded", "amount": 500, "currency": "eur",
        "payment_intent": intent, "metadata": {} })
}

/// Stripe lists no refund of `intent`.
pub async fn mount_empty_refund_list(server: &MockServer, intent: &str) {
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .and(query_param("payment_intent", intent))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_refund_list()))
        .mount(server)
        .await;
}

/// Stripe knows no refund of `intent` yet and creates `refund_id`, `creations` times.
pub async fn mount_refunds(server: &MockServer, intent: &str, refund_id: &str, creations: u64) {
    mount_empty_refund_list(server, intent).await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(body_string_contains(format!("payment_intent={intent}&")))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund_object(refund_id, intent)))
        .expect(creations)
        .mount(server)
        .await;
}

/// A client like the app's own, talking to the fake at `api_base`.
fn client(api_base: &str) -> qskip::stripe::StripeClient {
    let mut config = qskip::stripe::ClientConfig::new(secrecy::SecretString::from(SECRET_KEY));
    config.api_base = api_base.to_owned();
    qskip::stripe::StripeClient::new(config).expect("a local fake is a valid api_base")
}

/// One pass of a refund worker over `app`'s log against the fake; returns how many
/// refunds it recorded. The app's own worker runs on a timer; a test that must see
/// "a pass after X asks Stripe nothing" runs one itself instead of sleeping through
/// the interval.
pub async fn refund_pass(app: &TestApp, server: &MockServer) -> usize {
    qskip::payments::RefundWorker::new(app.services.clone(), client(&server.uri())).pass().await
}

/// One pass of a session-expiry worker over `app`'s log against the fake at
/// `api_base`; returns how many checkout pages it closed (see [`refund_pass`]).
pub async fn session_expiry_pass(app: &TestApp, api_base: &str) -> usize {
    qskip::payments::SessionExpiryWorker::new(app.services.clone(), client(api_base)).pass().await
}
