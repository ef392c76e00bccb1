//! The Stripe webhook and the refund worker over the real server, with a real local
//! fake of Stripe's API (wiremock): payments confirm once, late payments without room
//! become refunds that are issued exactly once, bad signatures change nothing.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{BinaryHome, TestApp, TestConfig, VENUE, VenueSpec, assert_error, created, eventually};
use crate::stripe_fake::{
    OLD_SECRET, SECRET, event, mount_refunds, post_signed, refund_pass, stripe_app, stripe_config,
};

async fn deliver_signed(app: &TestApp, body: &str, t: i64, secret: &str) -> reqwest::Response {
    let signature = qskip::stripe::signature::sign(body.as_bytes(), secret, t);
    app.api
        .client
        .post(app.url("/v1/webhooks/stripe"))
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("webhook is answered")
}

async fn deliver(app: &TestApp, body: &str) -> Value {
    let response = deliver_signed(app, body, app.now().timestamp(), SECRET).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("webhook answers JSON")
}

async fn raw(app: &TestApp, id: &str) -> Value {
    app.get_reservation(id).await.json().await.expect("reservation JSON")
}

#[actix_web::test]
async fn a_paid_session_confirms_once_however_often_it_is_delivered() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 2).await;
    let start = app.window(1);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    let paid = event("evt_1", "checkout.session.completed", &r.id, "pi_1", "paid", 500);
    assert_eq!(deliver(&app, &paid).await["outcome"], "confirmed");
    assert_eq!(deliver(&app, &paid).await["outcome"], "confirmed");
    // The same payment under another event id (async_payment_succeeded after completed).
    let again = event("evt_2", "checkout.session.async_payment_succeeded", &r.id, "pi_1", "paid", 500);
    assert_eq!(deliver(&app, &again).await["outcome"], "confirmed");
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.confirmed, counts.held), (1, 0));
    assert_eq!(raw(&app, &r.id).await["refunds"], json!([]));
}

#[actix_web::test]
async fn bad_stale_or_missing_signatures_are_400_and_change_nothing() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 2).await;
    let r = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let paid = event("evt_1", "checkout.session.completed", &r.id, "pi_1", "paid", 500);
    let now = app.now().timestamp();
    assert_error(deliver_signed(&app, &paid, now, "whsec_wrong").await, StatusCode::BAD_REQUEST, "invalid_signature")
        .await;
    assert_error(deliver_signed(&app, &paid, now - 301, SECRET).await, StatusCode::BAD_REQUEST, "invalid_signature")
        .await;
    let tampered = paid.replace("\"paid\"", "\"paid\" ");
    let signature = qskip::stripe::signature::sign(paid.as_bytes(), SECRET, now);
    let response = app
        .api
        .client
        .post(app.url("/v1/webhooks/stripe"))
        .header("Stripe-Signature", signature)
        .body(tampered)
        .send()
        .await
        .expect("answered");
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_signature").await;
    let unsigned =
        app.api.client.post(app.url("/v1/webhooks/stripe")).body(paid.clone()).send().await.expect("answered");
    assert_error(unsigned, StatusCode::BAD_REQUEST, "invalid_signature").await;
    assert_eq!(app.reservation(&r.id).await.status, "held");
    // The previous secret of a rolled endpoint still verifies.
    let old = deliver_signed(&app, &paid, now, OLD_SECRET).await;
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(app.reservation(&r.id).await.status, "confirmed");
}

#[actix_web::test]
async fn a_late_payment_without_room_is_refunded_exactly_once() {
    let server = MockServer::start().await;
    mount_refunds(&server, "pi_late", "re_late", 1).await;
    let app = stripe_app(&server, 1).await;
    let start = app.window(4);
    let late = created(app.reserve_in(VENUE, start, 1).await).await;
    app.advance(Duration::minutes(31));
    let winner = created(app.reserve_in(VENUE, start, 1).await).await;
    let paid = event("evt_late", "checkout.session.completed", &late.id, "pi_late", "paid", 500);
    assert_eq!(deliver(&app, &paid).await["outcome"], "refund_owed");
    let refunded = app.wait_for_status(&late.id, "refunded").await;
    assert_eq!(refunded.status, "refunded");
    let body = raw(&app, &late.id).await;
    assert_eq!(body["refunds"][0]["refund_id"], "re_late");
    assert_eq!(body["refunds"][0]["reason"], "sold_out");
    // Redelivery after the refund: nothing new, and Stripe saw one refund request.
    assert_eq!(deliver(&app, &paid).await["outcome"], "refunded");
    assert_eq!(refund_pass(&app, &server).await, 0, "a worker pass after the refund asks nothing");
    assert_eq!(app.reservation(&winner.id).await.status, "held");
    let counts = app.window_counts(VENUE, start).await;
    assert_eq!((counts.held, counts.confirmed), (1, 0));
    let posts = server.received_requests().await.expect("recorded");
    let refund_posts: Vec<_> = posts.iter().filter(|r| r.method.as_str() == "POST").collect();
    assert_eq!(refund_posts.len(), 1);
    let form = String::from_utf8_lossy(&refund_posts[0].body).into_owned();
    assert!(form.contains("payment_intent=pi_late"), "{form}");
    let key = refund_posts[0].headers.get("Idempotency-Key").expect("keyed").to_str().unwrap().to_owned();
    assert_eq!(key, format!("refund:{}:pi_late", late.id));
}

#[actix_web::test]
async fn a_late_payment_with_room_confirms_late() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 2).await;
    let start = app.window(4);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    app.advance(Duration::minutes(40));
    let paid = event("evt_1", "checkout.session.completed", &r.id, "pi_1", "paid", 500);
    assert_eq!(deliver(&app, &paid).await["outcome"], "confirmed");
    assert_eq!(app.window_counts(VENUE, start).await.confirmed, 1);
}

#[actix_web::test]
async fn wrong_amounts_and_second_payments_are_refunded_and_confirmations_stay() {
    let server = MockServer::start().await;
    mount_refunds(&server, "pi_short", "re_short", 1).await;
    mount_refunds(&server, "pi_second", "re_second", 1).await;
    let app = stripe_app(&server, 2).await;
    let start = app.window(2);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    let short = event("evt_short", "checkout.session.completed", &r.id, "pi_short", "paid", 499);
    assert_eq!(deliver(&app, &short).await["outcome"], "refund_owed");
    assert_eq!(app.window_counts(VENUE, start).await.held, 1, "a wrong amount does not end the hold");
    let paid = event("evt_ok", "checkout.session.completed", &r.id, "pi_ok", "paid", 500);
    assert_eq!(deliver(&app, &paid).await["outcome"], "confirmed");
    let second = event("evt_second", "checkout.session.completed", &r.id, "pi_second", "paid", 500);
    assert_eq!(deliver(&app, &second).await["outcome"], "confirmed");
    eventually("both refunds to be issued", || async {
        let refunds = raw(&app, &r.id).await["refunds"].clone();
        let issued = refunds.as_array().expect("a list of refunds").iter().all(|f| !f["refund_id"].is_null());
        if issued { Ok(()) } else { Err(refunds) }
    })
    .await;
    let body = raw(&app, &r.id).await;
    assert_eq!(body["status"], "confirmed");
    let reasons: Vec<_> = body["refunds"].as_array().unwrap().iter().map(|f| f["reason"].clone()).collect();
    assert_eq!(reasons, vec![json!("amount_mismatch"), json!("already_confirmed")]);
    assert_eq!(app.window_counts(VENUE, start).await.confirmed, 1);
}

#[actix_web::test]
async fn expired_and_failed_sessions_release_the_hold_and_strangers_are_ignored() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 1).await;
    let start = app.window(1);
    let r = created(app.reserve_in(VENUE, start, 1).await).await;
    let expired = event("evt_exp", "checkout.session.expired", &r.id, "pi_x", "unpaid", 500);
    assert_eq!(deliver(&app, &expired).await["outcome"], "cancelled");
    assert_eq!(deliver(&app, &expired).await["outcome"], "cancelled");
    assert_eq!(app.window_counts(VENUE, start).await.available, 1);
    let unpaid = event("evt_wait", "checkout.session.completed", &r.id, "pi_y", "unpaid", 500);
    assert_eq!(deliver(&app, &unpaid).await["outcome"], "waiting");
    let stranger =
        event("evt_s", "checkout.session.completed", "00000000-0000-4000-8000-000000000000", "pi_s", "paid", 500);
    assert_eq!(deliver(&app, &stranger).await["outcome"], "unknown_reservation");
    let not_ours = event("evt_n", "checkout.session.completed", "order-17", "pi_n", "paid", 500);
    assert_eq!(deliver(&app, &not_ours).await["outcome"], "unknown_reservation");
}

#[test]
fn owed_refunds_are_issued_after_a_kill_9() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().unwrap();
    runtime.block_on(async {
        let server = MockServer::start().await;
        // Stripe is failing while the debt arises.
        Mock::given(method("GET"))
            .and(path("/v1/refunds"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/refunds"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 4).hold_ttl_secs(1)]);
        config.payments = Some(stripe_config(&server.uri()));
        let home = BinaryHome::with_config(config);
        let mut binary = home.start();
        let api = binary.api.clone();
        let start = qskip::domain::window_start_of(chrono::Utc::now()) + Duration::minutes(15);
        let late = created(api.reserve_in(VENUE, start, 1).await).await;
        // The only slot is sold again once the 1 s hold has expired.
        eventually("the late payer's hold to expire and its slot to sell again", || async {
            let response = api.reserve_in(VENUE, start, 1).await;
            if response.status() == StatusCode::CREATED { Ok(()) } else { Err(response.status()) }
        })
        .await;
        let body = event("evt_k", "checkout.session.completed", &late.id, "pi_k", "paid", 500);
        assert_eq!(post_signed(&api, &body, chrono::Utc::now().timestamp()).await.status(), StatusCode::OK);
        assert_eq!(api.reservation(&late.id).await.status, "refund_owed");
        binary.kill_9();

        server.reset().await;
        mount_refunds(&server, "pi_k", "re_k", 1).await;
        let binary = home.start();
        binary.wait_for_status(&late.id, "refunded").await;
    });
}
