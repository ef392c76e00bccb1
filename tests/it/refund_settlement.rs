//! The refund worker against a fake Stripe: a debt is settled only when the live
//! refunds Stripe lists *for its payment intent* cover what is owed; otherwise the
//! remainder is refunded under its own idempotency key. A refund Stripe refuses for
//! good waits for an operator (`failed`, listed in the admin API) and is paid back once
//! the operator retries it. Nothing owed is dropped.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{AppOptions, TestApp, VenueSpec, created, eventually, spawn_app_with};
use crate::metrics::{scrape, value};
use crate::stripe_fake::{event, post_signed, stripe_config};

const TOKEN: &str = "test-admin-token-0123456789abcdef";
/// The venue's price: each reservation below holds one skip, so it is also the debt.
const PRICE: i64 = 500;

fn refund(id: &str, intent: &str, status: &str, amount: i64) -> Value {
    json!({ "id": id, "object": "refund", "status": status, "amount": amount, "currency": "eur",
        "payment_intent": intent, "metadata": {} })
}

/// Stripe lists `refunds` for `intent`.
async fn mount_listing(server: &MockServer, intent: &str, refunds: Vec<Value>) {
    let page = json!({ "object": "list", "data": refunds, "has_more": false, "url": "/v1/refunds" });
    Mock::given(method("GET"))
        .and(path("/v1/refunds"))
        .and(query_param("payment_intent", intent))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(server)
        .await;
}

/// Stripe creates `refund_id` of `amount` for `intent`, exactly `times` times, and only
/// when asked for that amount under that idempotency key.
async fn mount_creation(server: &MockServer, intent: &str, amount: i64, key: &str, refund_id: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .and(body_string_contains(format!("payment_intent={intent}&amount={amount}&")))
        .and(header("Idempotency-Key", key))
        .respond_with(ResponseTemplate::new(200).set_body_json(refund(refund_id, intent, "succeeded", amount)))
        .expect(times)
        .mount(server)
        .await;
}

async fn app_for(server: &MockServer, venue_id: &str) -> TestApp {
    let options = AppOptions::with_venues(vec![VenueSpec::new(venue_id, 40)]).payments(stripe_config(&server.uri()));
    spawn_app_with(options.admin_token(TOKEN)).await
}

/// A confirmed reservation paid a second time with `intent`: that payment is owed back.
async fn owe_refund(app: &TestApp, venue: &str, intent: &str) -> String {
    let r = created(app.reserve_in(venue, app.window(1), 1).await).await;
    let now = app.now().timestamp();
    for (n, pi) in [("first", format!("pi_first_{intent}")), ("again", intent.to_owned())] {
        let body = event(&format!("evt_{n}_{intent}"), "checkout.session.completed", &r.id, &pi, "paid", PRICE);
        assert_eq!(post_signed(&app.api, &body, now).await.status(), StatusCode::OK);
    }
    r.id
}

/// The reservation's one refund once it is no longer `owed` (or None at the deadline).
async fn settled_refund(app: &TestApp, id: &str) -> Value {
    eventually(&format!("the refund of {id} to leave `owed`"), || async {
        let body: Value = app.get_reservation(id).await.json().await.map_err(|e| e.to_string())?;
        let refund = body["refunds"][0].clone();
        if refund["state"] != "owed" { Ok(refund) } else { Err(body.to_string()) }
    })
    .await
}

#[actix_web::test]
async fn a_debt_is_settled_only_by_live_refunds_of_its_own_payment_that_cover_it() {
    let server = MockServer::start().await;
    let venue = "settle";
    // No earlier refund: the whole debt is refunded under the first key.
    mount_listing(&server, "pi_none", vec![]).await;
    // A full refund exists (an earlier run whose answer was lost, or the dashboard).
    mount_listing(&server, "pi_full", vec![refund("re_full", "pi_full", "succeeded", PRICE)]).await;
    // An operator refunded 1.00 by hand: the other 4.00 go back under a key of their own.
    mount_listing(&server, "pi_part", vec![refund("re_op", "pi_part", "succeeded", 100)]).await;
    // A failed refund pays nothing back.
    mount_listing(&server, "pi_dead", vec![refund("re_dead", "pi_dead", "failed", PRICE)]).await;
    // A refund of another payment in the listing is not this debt's.
    mount_listing(&server, "pi_mine", vec![refund("re_other", "pi_other", "succeeded", PRICE)]).await;
    let app = app_for(&server, venue).await;
    let ids = [
        ("pi_none", owe_refund(&app, venue, "pi_none").await),
        ("pi_full", owe_refund(&app, venue, "pi_full").await),
        ("pi_part", owe_refund(&app, venue, "pi_part").await),
        ("pi_dead", owe_refund(&app, venue, "pi_dead").await),
        ("pi_mine", owe_refund(&app, venue, "pi_mine").await),
    ];
    let id = |intent: &str| ids.iter().find(|(i, _)| *i == intent).expect("known intent").1.clone();
    mount_creation(&server, "pi_none", PRICE, &format!("refund:{}:pi_none", id("pi_none")), "re_none", 1).await;
    mount_creation(&server, "pi_part", 400, &format!("refund:{}:pi_part:after:100", id("pi_part")), "re_rest", 1).await;
    mount_creation(&server, "pi_dead", PRICE, &format!("refund:{}:pi_dead", id("pi_dead")), "re_new", 1).await;
    mount_creation(&server, "pi_mine", PRICE, &format!("refund:{}:pi_mine", id("pi_mine")), "re_mine", 1).await;

    let expected = [
        ("pi_none", "re_none"),
        ("pi_full", "re_full"),
        ("pi_part", "re_rest"),
        ("pi_dead", "re_new"),
        ("pi_mine", "re_mine"),
    ];
    for (intent, refund_id) in expected {
        let refund = settled_refund(&app, &id(intent)).await;
        assert_eq!(refund["state"], "refunded", "{intent}: {refund}");
        assert_eq!(refund["refund_id"], refund_id, "{intent}: {refund}");
        assert_eq!(refund["refunded_minor"], PRICE, "{intent}: the whole debt went back: {refund}");
        let body: Value = app.get_reservation(&id(intent)).await.json().await.unwrap();
        assert_eq!(body["status"], "confirmed", "{intent}: the first payment still holds the slot");
    }
    // Every creation above happened exactly once, and none for the fully refunded debt
    // (a POST the mocks do not match would have answered 404 and left it owed).
    server.verify().await;
    let log = app.services.log();
    let settled: Vec<(Vec<String>, Option<u64>)> = log
        .iter()
        .filter_map(|entry| match entry.expect("the log reads back").2 {
            qskip::store::Record::Window(
                _,
                qskip::domain::WindowEvent::RefundSettled { refund_ids, refunded_minor, .. },
            ) => Some((refund_ids, refunded_minor)),
            _ => None,
        })
        .collect();
    assert!(
        settled.contains(&(vec!["re_op".into(), "re_rest".into()], Some(500))),
        "both refunds recorded: {settled:?}"
    );
}

#[actix_web::test]
async fn a_refund_stripe_refuses_for_good_waits_for_an_operator_who_retries_it() {
    let server = MockServer::start().await;
    let venue = "refused";
    mount_listing(&server, "pi_refused", vec![]).await;
    let refused = json!({ "error": { "type": "invalid_request_error", "code": "charge_disputed",
        "message": "This charge is disputed." } });
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refused))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let app = app_for(&server, venue).await;
    let id = owe_refund(&app, venue, "pi_refused").await;

    let failed = settled_refund(&app, &id).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let body: Value = app.get_reservation(&id).await.json().await.unwrap();
    assert_eq!(body["refunds"][0]["refund_id"], Value::Null, "still owed: {body}");
    let listed: Value = admin(&app, reqwest::Method::GET, "/v1/admin/refunds").await.json().await.unwrap();
    let ours = listed.as_array().unwrap().iter().find(|r| r["reservation_id"] == id.as_str()).cloned();
    let ours = ours.unwrap_or_else(|| panic!("the failed refund is listed: {listed}"));
    assert_eq!((ours["state"].as_str(), ours["attempts"].as_u64()), (Some("failed"), Some(1)), "{ours}");
    assert!(ours["error"].as_str().is_some_and(|e| e.contains("disputed")), "{ours}");
    assert_eq!(ours["amount_minor"], PRICE);
    let gauge = format!("qskip_refunds_failed{{venue=\"{venue}\"}}");
    eventually("the failed-refunds gauge to show it", || async {
        let shown = value(&scrape(&app).await, &gauge);
        if shown == 1.0 { Ok(()) } else { Err(shown) }
    })
    .await;

    // The operator retries: Stripe accepts this time, and the debt is paid back.
    mount_creation(&server, "pi_refused", PRICE, &format!("refund:{id}:pi_refused"), "re_later", 1).await;
    let path = format!("/v1/admin/reservations/{id}/refunds/retry");
    assert_eq!(admin(&app, reqwest::Method::POST, &path).await.status(), StatusCode::OK);
    let paid = eventually("the retried refund to be paid back", || async {
        let body: Value = app.get_reservation(&id).await.json().await.map_err(|e| e.to_string())?;
        if body["refunds"][0]["state"] == "refunded" { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    assert_eq!(paid["refunds"][0]["refund_id"], "re_later");
    let again = admin(&app, reqwest::Method::POST, &path).await;
    crate::helpers::assert_error(again, StatusCode::CONFLICT, "no_failed_refund").await;
    crate::admin::assert_replay_clean(&app);
}

async fn admin(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::Response {
    let request = app.api.client.request(method, app.url(path)).bearer_auth(TOKEN);
    request.header("X-Qskip-Operator", "ana").send().await.expect("the admin API answers")
}

/// A payment intent that is not a Stripe id can never be refunded through the API: the
/// worker does not retry it forever, it puts it in front of an operator at once.
#[actix_web::test]
async fn a_refund_that_can_never_succeed_is_not_retried_forever() {
    let server = MockServer::start().await;
    let venue = "never";
    let app = app_for(&server, venue).await;
    let id = owe_refund(&app, venue, "pi-not/a.stripe-id").await;
    let failed = settled_refund(&app, &id).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let listed: Value = admin(&app, reqwest::Method::GET, "/v1/admin/refunds").await.json().await.unwrap();
    let ours = listed.as_array().unwrap().iter().find(|r| r["reservation_id"] == id.as_str()).cloned().unwrap();
    assert!(ours["error"].as_str().is_some_and(|e| e.contains("not a Stripe object id")), "{ours}");
    // Nothing reached Stripe: the id was refused before any request.
    assert!(server.received_requests().await.unwrap_or_default().is_empty());
}
