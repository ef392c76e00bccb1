//! The per-IP rate limit and the per-client cap on unpaid held slots: over either, 429
//! with its own code and Retry-After, and no state change; a bot cannot hold a whole
//! window; both are configured in `[limits]` (and off in the other tests).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    AppOptions, LimitsConfig, TestApp, TestConfig, VENUE, VenueSpec, assert_error, created, rfc3339, spawn_app_with,
};

async fn app_with_limits(capacity: u32, limits: LimitsConfig) -> TestApp {
    spawn_app_with(AppOptions::capacity(capacity).limits(limits)).await
}

/// A reservation request as if from `ip` (through the trusted header) with `email`.
async fn reserve_as(app: &TestApp, ip: &str, email: Option<&str>, quantity: u32) -> reqwest::Response {
    let mut body = json!({ "quantity": quantity, "window_start": rfc3339(app.window(1)) });
    if let Some(email) = email {
        body["email"] = json!(email);
    }
    let url = app.url(&format!("/v1/venues/{VENUE}/reservations"));
    app.api.client.post(url).header("X-Client-IP", ip).json(&body).send().await.expect("answered")
}

#[actix_web::test]
async fn the_per_ip_rate_limit_answers_429_with_retry_after_and_changes_nothing() {
    let limits = LimitsConfig {
        reservations_per_ip_per_minute: Some(3),
        active_hold_slots_per_client: Some(100),
        ..LimitsConfig::on()
    };
    let app = app_with_limits(10, limits).await;
    for _ in 0..3 {
        created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    }
    let refused = app.reserve_in(VENUE, app.window(1), 1).await;
    let retry_after: u32 = refused.headers()["Retry-After"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(app.window_counts(VENUE, app.window(1)).await.held, 3);
}

#[actix_web::test]
async fn unpaid_slots_are_capped_per_ip_and_per_email() {
    let limits = LimitsConfig {
        reservations_per_ip_per_minute: Some(1000),
        active_hold_slots_per_client: Some(3),
        client_ip_header: Some("X-Client-IP".into()),
        ..LimitsConfig::on()
    };
    let app = app_with_limits(20, limits).await;
    let first = created(reserve_as(&app, "10.0.0.1", None, 2).await).await;
    let over = reserve_as(&app, "10.0.0.1", None, 2).await;
    assert!(over.headers().contains_key("Retry-After"));
    assert_error(over, StatusCode::TOO_MANY_REQUESTS, "too_many_active_holds").await;
    created(reserve_as(&app, "10.0.0.1", None, 1).await).await;
    assert_eq!(app.window_counts(VENUE, app.window(1)).await.held, 3, "the refusal held nothing");

    // Paying ends a hold: the client may hold again.
    assert_eq!(app.dev_pay(&first.id).await.status(), 303);
    created(reserve_as(&app, "10.0.0.1", None, 2).await).await;

    // The same e-mail from other addresses is the same client.
    created(reserve_as(&app, "10.0.0.2", Some("Bot@Example.com"), 3).await).await;
    let same_email = reserve_as(&app, "10.0.0.3", Some("bot@example.com"), 1).await;
    assert_error(same_email, StatusCode::TOO_MANY_REQUESTS, "too_many_active_holds").await;
    // Another customer is not affected.
    created(reserve_as(&app, "10.0.0.4", Some("ana@example.com"), 3).await).await;
}

#[actix_web::test]
async fn a_bot_cannot_hold_every_slot_of_a_window_with_the_default_limits() {
    let limits = LimitsConfig { client_ip_header: Some("X-Client-IP".into()), ..LimitsConfig::on() };
    let app = app_with_limits(25, limits).await;
    let mut held = 0;
    for _ in 0..25 {
        let response = reserve_as(&app, "203.0.113.9", None, 1).await;
        match response.status() {
            StatusCode::CREATED => held += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(held, qskip::limits::ACTIVE_HOLD_SLOTS_PER_CLIENT_DEFAULT);
    let counts = app.window_counts(VENUE, app.window(1)).await;
    assert_eq!(counts.available, 25 - held);
    created(reserve_as(&app, "198.51.100.7", None, 1).await).await;
}

#[actix_web::test]
async fn zero_limits_are_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 4)]).in_dir(dir.path());
    config.limits = LimitsConfig { active_hold_slots_per_client: Some(0), ..LimitsConfig::on() };
    let error = config.parse().unwrap_err();
    assert!(error.to_string().contains("enabled = false"), "{error}");
}
