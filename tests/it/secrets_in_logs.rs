//! No secret reaches the logs: the real binary runs a full Stripe flow (checkout, paid
//! webhook, a second payment refunded, a forged webhook) and its whole stderr is
//! searched for the API key, the webhook secrets and the admin token.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{BinaryHome, TestConfig, VENUE, VenueSpec, created, eventually};
use crate::stripe_fake::{OLD_SECRET, SECRET, SECRET_KEY, event, mount_refunds, post_signed, stripe_checkout_config};

const ADMIN_TOKEN: &str = "admin_token_never_logged_4242";

#[test]
fn a_full_stripe_flow_logs_no_secret() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().unwrap();
    runtime.block_on(async {
        let server = MockServer::start().await;
        let session = json!({ "id": "cs_test_logs", "object": "checkout.session", "expires_at": 1_900_000_000,
            "url": "https://checkout.stripe.test/c/pay/cs_test_logs", "status": "open", "payment_status": "unpaid" });
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(session))
            .mount(&server)
            .await;
        mount_refunds(&server, "pi_second", "re_second", 1).await;
        let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 8)]);
        config.admin_token = Some(ADMIN_TOKEN.into());
        config.payments = Some(stripe_checkout_config(&server.uri()));
        let home = BinaryHome::with_config(config);
        let binary = home.start();
        let api = binary.api.clone();

        let start = qskip::domain::window_start_of(chrono::Utc::now()) + Duration::minutes(15);
        let r = created(api.reserve_in(VENUE, start, 1).await).await;
        assert_eq!(r.checkout_url, "https://checkout.stripe.test/c/pay/cs_test_logs");
        let now = chrono::Utc::now().timestamp();
        for (id, intent) in [("evt_1", "pi_first"), ("evt_2", "pi_second")] {
            let body = event(id, "checkout.session.completed", &r.id, intent, "paid", 500);
            assert_eq!(post_signed(&api, &body, now).await.status(), StatusCode::OK);
        }
        let forged = api
            .client
            .post(api.url("/v1/webhooks/stripe"))
            .header("Stripe-Signature", "t=1,v1=00")
            .body("{}")
            .send()
            .await
            .expect("answered");
        assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
        // The admin token on the wire, right and wrong: neither may reach the logs.
        let release = api.url(&format!("/v1/admin/reservations/{}/release", r.id));
        let paid = api.client.post(&release).bearer_auth(ADMIN_TOKEN).send().await.expect("answered");
        assert_eq!(paid.status(), StatusCode::CONFLICT, "a paid reservation cannot be released");
        let wrong = api.client.post(&release).bearer_auth(format!("{ADMIN_TOKEN}-x")).send().await.expect("answered");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        eventually("the second payment to be refunded", || async {
            let body: serde_json::Value = api.get_reservation(&r.id).await.json().await.unwrap();
            (body["refunds"][0]["refund_id"] == "re_second").then_some(()).ok_or(body)
        })
        .await;

        let logs = binary.stderr();
        assert!(logs.contains("stripe webhook"), "the flow was logged: {logs}");
        assert!(logs.contains("refund issued"), "the refund was logged: {logs}");
        for secret in [SECRET_KEY, SECRET, OLD_SECRET, ADMIN_TOKEN] {
            assert!(!logs.contains(secret), "{secret} appears in the logs");
        }
    });
}
