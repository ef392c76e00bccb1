//! The Stripe API client against a local fake (wiremock on 127.0.0.1): exact form fields
//! and headers, byte-identical retries under the same idempotency key, and the retry
//! policy (connection errors, 409 and 5xx retried; other 4xx and `Stripe-Should-Retry:
//! false` not). Backoff is shrunk to milliseconds so every test is fast.

use std::collections::BTreeSet;
use std::time::Duration;

use qskip::stripe::{CheckoutSessionParams, ClientConfig, RetryPolicy, StripeClient, StripeError};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

fn client_for(api_base: &str) -> StripeClient {
    let mut config = ClientConfig::new(secrecy::SecretString::from(SECRET));
    config.api_base = api_base.to_owned();
    config.retry =
        RetryPolicy { max_retries: 2, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5) };
    config.stripe_version = Some("2023-08-16".into());
    StripeClient::new(config).expect("a local fake is a valid api_base")
}

fn params() -> CheckoutSessionParams {
    CheckoutSessionParams {
        success_url: "https://example.test/ok?session_id={CHECKOUT_SESSION_ID}".into(),
        cancel_url: "https://example.test/cancel".into(),
        currency: "EUR".into(),
        unit_amount: 1500,
        quantity: 2,
        product_name: "Queue skip 10:30".into(),
        reservation_id: "res_42".into(),
        expires_at: 1_764_333_960,
    }
}

fn session_json() -> Value {
    json!({
        "id": "cs_test_a1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
        "expires_at": 1_764_333_960, "status": "open", "payment_status": "unpaid", "payment_intent": null,
        "client_reference_id": "res_42", "amount_total": 3000, "currency": "eur", "livemode": false
    })
}

fn stripe_error(kind: &str, message: &str) -> Value {
    json!({ "error": { "type": kind, "message": message } })
}

fn pairs(request: &Request) -> BTreeSet<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&request.body)
        .expect("the client sends a valid form")
        .into_iter()
        .collect()
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|v| v.to_str().expect("headers are ASCII"))
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("request recording is on by default")
}

/// Answers the create-session path with `first` once, then 200 with a session.
async fn mount_first_then_ok(server: &MockServer, first: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(first)
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json()))
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_session_sends_exactly_the_expected_form_and_headers() {
    let server = MockServer::start().await;
    mount_first_then_ok(&server, ResponseTemplate::new(200).set_body_json(session_json())).await;

    let session = client_for(&server.uri()).create_checkout_session(&params(), "res_42:checkout:v1").await;
    let session = session.expect("the fake answers 200");
    assert_eq!(session.id, "cs_test_a1");
    assert_eq!(session.url.as_deref(), Some("https://checkout.stripe.com/c/pay/cs_test_a1"));
    assert_eq!(session.expires_at, 1_764_333_960);
    assert_eq!(session.payment_intent, None);

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    let expected: BTreeSet<(String, String)> = [
        ("mode", "payment"),
        ("success_url", "https://example.test/ok?session_id={CHECKOUT_SESSION_ID}"),
        ("cancel_url", "https://example.test/cancel"),
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][unit_amount]", "1500"),
        ("line_items[0][price_data][product_data][name]", "Queue skip 10:30"),
        ("line_items[0][quantity]", "2"),
        ("client_reference_id", "res_42"),
        ("metadata[reservation_id]", "res_42"),
        ("payment_intent_data[metadata][reservation_id]", "res_42"),
        ("expires_at", "1764333960"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(pairs(request), expected);
    let body = String::from_utf8(request.body.clone()).expect("a form is ASCII");
    assert!(body.contains("%7BCHECKOUT_SESSION_ID%7D"), "{body}");
    assert_eq!(header(request, "authorization"), Some(format!("Bearer {SECRET}").as_str()));
    assert_eq!(header(request, "content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(header(request, "idempotency-key"), Some("res_42:checkout:v1"));
    assert_eq!(header(request, "stripe-version"), Some("2023-08-16"));
}

#[tokio::test]
async fn a_500_is_retried_with_a_byte_identical_body_and_key() {
    let server = MockServer::start().await;
    mount_first_then_ok(&server, ResponseTemplate::new(500).set_body_json(stripe_error("api_error", "boom"))).await;

    let session = client_for(&server.uri()).create_checkout_session(&params(), "res_42:checkout:v1").await;
    assert_eq!(session.expect("the retry succeeds").id, "cs_test_a1");

    let received = requests(&server).await;
    assert_eq!(received.len(), 2, "one retry after the 500");
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(header(&received[0], "idempotency-key"), header(&received[1], "idempotency-key"));
    assert_eq!(header(&received[1], "idempotency-key"), Some("res_42:checkout:v1"));
}

#[tokio::test]
async fn a_409_is_retried() {
    let server = MockServer::start().await;
    let conflict = stripe_error("invalid_request_error", "There is currently another in-progress request");
    mount_first_then_ok(&server, ResponseTemplate::new(409).set_body_json(conflict)).await;

    let session = client_for(&server.uri()).create_checkout_session(&params(), "res_42:checkout:v1").await;
    assert!(session.is_ok(), "{session:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_400_is_not_retried_and_carries_stripes_message() {
    let server = MockServer::start().await;
    let message = "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.";
    let body = json!({ "error": { "type": "invalid_request_error", "code": "parameter_invalid_integer",
                                  "param": "expires_at", "message": message } });
    mount_first_then_ok(&server, ResponseTemplate::new(400).set_body_json(body)).await;

    let error = client_for(&server.uri()).create_checkout_session(&params(), "k1").await.expect_err("400 fails");
    let StripeError::Api { status, error_type, code, param, message: got, .. } = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(*status, 400);
    assert_eq!(error_type.as_deref(), Some("invalid_request_error"));
    assert_eq!(code.as_deref(), Some("parameter_invalid_integer"));
    assert_eq!(param.as_deref(), Some("expires_at"));
    assert_eq!(got.as_deref(), Some(message));
    assert!(!error.to_string().contains(SECRET));
    assert_eq!(requests(&server).await.len(), 1, "a 400 is final");
}

#[tokio::test]
async fn an_idempotency_error_is_typed_and_final() {
    let server = MockServer::start().await;
    let body = stripe_error(
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were first used with.",
    );
    mount_first_then_ok(&server, ResponseTemplate::new(400).set_body_json(body)).await;

    let error = client_for(&server.uri()).create_checkout_session(&params(), "k1").await.expect_err("mismatch fails");
    assert!(matches!(error, StripeError::IdempotencyMismatch { status: 400, .. }), "{error:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn stripe_should_retry_false_stops_retries_of_a_500() {
    let server = MockServer::start().await;
    let first = ResponseTemplate::new(500)
        .insert_header("Stripe-Should-Retry", "false")
        .set_body_json(stripe_error("api_error", "replayed"));
    mount_first_then_ok(&server, first).await;

    let error = client_for(&server.uri()).create_checkout_session(&params(), "k1").await.expect_err("not retried");
    assert!(matches!(error, StripeError::Api { status: 500, .. }), "{error:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn stripe_should_retry_true_retries_a_429() {
    let server = MockServer::start().await;
    let first = ResponseTemplate::new(429)
        .insert_header("Stripe-Should-Retry", "true")
        .set_body_json(stripe_error("invalid_request_error", "lock_timeout"));
    mount_first_then_ok(&server, first).await;

    let session = client_for(&server.uri()).create_checkout_session(&params(), "k1").await;
    assert!(session.is_ok(), "{session:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn persistent_500s_give_up_after_two_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_json(stripe_error("api_error", "down")))
        .mount(&server)
        .await;

    let error = client_for(&server.uri()).create_checkout_session(&params(), "k1").await.expect_err("always 503");
    assert!(matches!(error, StripeError::Api { status: 503, .. }), "{error:?}");
    assert!(error.is_transient());
    assert_eq!(requests(&server).await.len(), 3, "first attempt + 2 retries");
}

#[tokio::test]
async fn connection_refused_is_a_network_error_after_retries() {
    // A port that was just free: nothing listens there any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let port = listener.local_addr().expect("a bound socket has an address").port();
    drop(listener);

    let client = client_for(&format!("http://127.0.0.1:{port}"));
    let error = client.create_checkout_session(&params(), "k1").await.expect_err("nobody listens");
    assert!(matches!(error, StripeError::Network { attempts: 3, .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(!format!("{error:?} {error}").contains(SECRET));
}

#[tokio::test]
async fn expire_posts_an_empty_form_with_content_type_and_key() {
    let server = MockServer::start().await;
    let mut expired = session_json();
    expired["status"] = json!("expired");
    expired["url"] = Value::Null;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions/cs_test_a1/expire"))
        .respond_with(ResponseTemplate::new(200).set_body_json(expired))
        .expect(1)
        .mount(&server)
        .await;

    let session = client_for(&server.uri()).expire_checkout_session("cs_test_a1", "res_42:expire").await;
    let session = session.expect("the fake expires it");
    assert_eq!(session.status.as_deref(), Some("expired"));
    let received = requests(&server).await;
    assert!(received[0].body.is_empty());
    assert_eq!(header(&received[0], "content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(header(&received[0], "idempotency-key"), Some("res_42:expire"));
}

#[tokio::test]
async fn refund_sends_payment_intent_reason_and_reservation() {
    let server = MockServer::start().await;
    let refund = json!({ "id": "re_1", "object": "refund", "status": "succeeded", "amount": 3000,
                         "currency": "eur", "payment_intent": "pi_1", "metadata": { "reservation_id": "res_42" } });
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund))
        .expect(1)
        .mount(&server)
        .await;

    let refund = client_for(&server.uri()).create_refund("pi_1", None, "res_42", "refund:cs_test_a1").await;
    let refund = refund.expect("the fake refunds");
    assert_eq!((refund.id.as_str(), refund.status.as_deref()), ("re_1", Some("succeeded")));

    let received = requests(&server).await;
    let expected: BTreeSet<(String, String)> =
        [("payment_intent", "pi_1"), ("reason", "requested_by_customer"), ("metadata[reservation_id]", "res_42")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(pairs(&received[0]), expected);
    assert_eq!(header(&received[0], "idempotency-key"), Some("refund:cs_test_a1"));
    assert_eq!(header(&received[0], "content-type"), Some("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn list_refunds_queries_by_payment_intent() {
    let server = MockServer::start().await;
    let list = json!({ "object": "list", "has_more": false, "url": "/v1/refunds", "data": [
        { "id": "re_1", "object": "refund", "status": "succeeded", "payment_intent": "pi_1" },
        { "id": "re_2", "object": "refund", "status": "pending", "payment_intent": "pi_1" } ] });
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list))
        .expect(1)
        .mount(&server)
        .await;

    let refunds = client_for(&server.uri()).list_refunds("pi_1").await.expect("the fake lists");
    let ids: Vec<&str> = refunds.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["re_1", "re_2"]);

    let received = requests(&server).await;
    let query: BTreeSet<(String, String)> = received[0].url.query_pairs().into_owned().collect();
    let expected = BTreeSet::from([("payment_intent".to_owned(), "pi_1".to_owned()), ("limit".into(), "100".into())]);
    assert_eq!(query, expected);
    assert_eq!(header(&received[0], "authorization"), Some(format!("Bearer {SECRET}").as_str()));
    assert_eq!(header(&received[0], "idempotency-key"), None, "keys have no effect on GET");
}
