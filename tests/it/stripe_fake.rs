//! A fake Stripe for the payment tests: the config that points qskip at a wiremock
//! server, signed `checkout.session.*` events as Stripe sends them, and refund mocks.

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Api, AppOptions, TestApp, VENUE, VenueSpec, spawn_app_with};

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

/// `[payments.stripe]` pointing at the fake, appended after the venue table. The
/// provider stays `dev`, so reserving does not call Stripe; the workers do.
pub fn stripe_toml(server: &MockServer) -> String {
    format!(
        "\n[payments.stripe]\napi_base = {:?}\nsecret_key = {SECRET_KEY:?}\nwebhook_secrets = [{OLD_SECRET:?}, {SECRET:?}]\n",
        server.uri()
    )
}

/// An in-process qskip with one venue of `capacity` per window, wired to the fake.
pub async fn stripe_app(server: &MockServer, capacity: u32) -> TestApp {
    let venue = VenueSpec::new(VENUE, capacity * 4).extra_toml(&stripe_toml(server));
    spawn_app_with(AppOptions { venues: vec![venue], ..AppOptions::default() }).await
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
