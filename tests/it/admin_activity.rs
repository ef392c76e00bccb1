//! `GET /v1/admin/venues/{venue}/activity`: sold-out refusals and late payments are
//! listed newest first once durable, behind the admin token.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{AppOptions, TestApp, VENUE, assert_error, created, dev_result, spawn_app_with};

const TOKEN: &str = "activity-test-token-0123456789";

async fn activity(app: &TestApp) -> Vec<Value> {
    let url = app.url(&format!("/v1/admin/venues/{VENUE}/activity"));
    let response = app.client.get(url).bearer_auth(TOKEN).send().await.expect("activity is answered");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a JSON list")
}

#[actix_web::test]
async fn sold_out_refusals_and_late_payments_are_listed_newest_first() {
    let app = spawn_app_with(AppOptions::capacity(1).hold_ttl_secs(60).admin_token(TOKEN)).await;
    let unauthenticated = app.client.get(app.url(&format!("/v1/admin/venues/{VENUE}/activity"))).send().await;
    assert_error(unauthenticated.expect("answered"), StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(activity(&app).await.is_empty());

    let start = app.window(1);
    let late = created(app.reserve_in(VENUE, start, 1).await).await;
    assert_error(app.reserve_in(VENUE, start, 1).await, StatusCode::CONFLICT, "sold_out").await;
    let listed = activity(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["kind"].as_str(), listed[0]["requested"].as_u64()), (Some("sold_out"), Some(1)));
    assert_eq!(
        (listed[0]["available"].as_u64(), listed[0]["window_start"].as_str()),
        (Some(0), Some(&*crate::helpers::rfc3339(start)))
    );

    app.advance(Duration::seconds(61));
    assert_eq!(dev_result(&app.dev_pay(&late.id).await, &late.id), "paid");
    let listed = activity(&app).await;
    let kinds: Vec<_> = listed.iter().map(|a| a["kind"].as_str().expect("a kind")).collect();
    assert_eq!(kinds, ["late_payment", "sold_out"], "newest first");
    assert_eq!(listed[0]["reservation_id"], late.id.as_str());

    let unknown = app.client.get(app.url("/v1/admin/venues/nowhere/activity")).bearer_auth(TOKEN).send().await;
    assert_error(unknown.expect("answered"), StatusCode::NOT_FOUND, "venue_not_found").await;
}
