//! The admin API on the real server: bearer auth on every route, venue changes as
//! events naming the operator, capacity cuts that keep every hold and confirmation but
//! mark the window `overcommitted` (and refuse new holds until it drains), releasing a
//! hold by hand, and a replay of the whole log without a violation afterwards.

use qskip::domain::{VenueEvent, WindowEvent};
use qskip::replay::{Filter, replay};
use qskip::store::Record;
use qskip::store::snapshot::SnapshotDir;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{AppOptions, TestApp, VENUE, all, assert_error, created, rfc3339, spawn_app_with};
use crate::metrics::{scrape, value};

const TOKEN: &str = "test-admin-token-0123456789abcdef";

async fn admin_app(capacity: u32) -> TestApp {
    spawn_app_with(AppOptions::capacity(capacity).admin_token(TOKEN)).await
}

fn request(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.api.client.request(method, app.url(path))
}

fn authed(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    request(app, method, path).bearer_auth(TOKEN)
}

/// A venue body as the admin API takes it: `slots_per_hour` gives capacity / 4.
fn venue_body(name: &str, slots_per_hour: u32, price_minor: u64) -> Value {
    json!({
        "name": name, "timezone": "UTC", "price_minor": price_minor, "currency": "eur",
        "slots_per_hour": slots_per_hour,
    })
}

async fn put_venue(app: &TestApp, id: &str, body: &Value, operator: &str) -> reqwest::Response {
    let request = authed(app, Method::PUT, &format!("/v1/admin/venues/{id}")).header("X-Qskip-Operator", operator);
    request.json(body).send().await.expect("PUT venue is answered")
}

async fn release(app: &TestApp, id: &str, operator: &str) -> reqwest::Response {
    let request = authed(app, Method::POST, &format!("/v1/admin/reservations/{id}/release"));
    request.header("X-Qskip-Operator", operator).send().await.expect("release is answered")
}

async fn window_reservations(app: &TestApp, start: chrono::DateTime<chrono::Utc>) -> Value {
    let path = format!("/v1/admin/venues/{VENUE}/windows/{}/reservations", rfc3339(start));
    let response = authed(app, Method::GET, &path).send().await.expect("GET reservations is answered");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

/// Every record in the log, in commit order.
fn records(app: &TestApp) -> Vec<Record> {
    app.services.log().iter().map(|entry| entry.expect("every record decodes").2).collect()
}

pub fn assert_replay_clean(app: &TestApp) {
    let snapshots = SnapshotDir::of_data_dir(app.data_dir.path());
    let report = replay(app.services.log(), &snapshots, &Filter::default(), |_, _| {}).expect("the log replays");
    assert!(report.violations.is_empty(), "replay found violations: {:?}", report.violations);
}

#[actix_web::test]
async fn every_admin_route_refuses_a_missing_or_wrong_token_and_changes_nothing() {
    let app = admin_app(3).await;
    let held = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let routes = [
        (Method::PUT, format!("/v1/admin/venues/{VENUE}"), Some(venue_body("Cut", 4, 500))),
        (Method::PUT, "/v1/admin/venues/brand-new".to_owned(), Some(venue_body("New", 4, 500))),
        (Method::GET, format!("/v1/admin/venues/{VENUE}/windows/{}/reservations", rfc3339(app.window(1))), None),
        (Method::POST, format!("/v1/admin/reservations/{}/release", held.id), None),
    ];
    let seq_before = app.services.log().last_seq().unwrap();
    for (method, path, body) in &routes {
        let attempts = [
            request(&app, method.clone(), path),
            request(&app, method.clone(), path).bearer_auth("test-admin-token-0123456789abcdeX"),
            request(&app, method.clone(), path).bearer_auth(&TOKEN[..TOKEN.len() - 1]),
            request(&app, method.clone(), path).basic_auth("admin", Some(TOKEN)),
            request(&app, method.clone(), path).header("Authorization", TOKEN),
        ];
        for attempt in attempts {
            let attempt = match body {
                Some(body) => attempt.json(body),
                None => attempt,
            };
            let response = attempt.send().await.expect("answered");
            let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(challenge.as_deref(), Some("Bearer realm=\"qskip-admin\""), "{method} {path}");
            assert_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
    }
    assert_eq!(app.services.log().last_seq().unwrap(), seq_before, "a refused admin call wrote to the log");
    assert_eq!(app.reservation(&held.id).await.status, "held");
    assert_eq!(app.window_counts(VENUE, app.window(1)).await.capacity, 3);

    // With the token, every route works.
    for (method, path, body) in routes {
        let request = authed(&app, method.clone(), &path);
        let response = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let status = response.send().await.expect("answered").status();
        assert!(status.is_success(), "{method} {path}: {status}");
    }
}

#[actix_web::test]
async fn without_a_configured_token_the_admin_api_is_off_and_says_so() {
    let app = spawn_app_with(AppOptions::capacity(3)).await;
    let response = put_venue(&app, "nord", &venue_body("Nord", 8, 500), "ana").await;
    let error = assert_error(response, StatusCode::FORBIDDEN, "admin_disabled").await;
    assert!(error["message"].as_str().unwrap().contains("admin_token"), "{error}");
    assert_eq!(app.api.client.get(app.url("/v1/venues/nord")).send().await.unwrap().status(), 404);
}

#[actix_web::test]
async fn venues_are_created_and_changed_as_events_that_name_the_operator() {
    let app = admin_app(3).await;
    let response = put_venue(&app, "nord", &venue_body("Club Nord", 8, 800), "ana").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["outcome"].as_str(), body["venue"]["price_minor"].as_u64()), (Some("created"), Some(800)));
    let reserved = created(app.reserve_in("nord", app.window(1), 2).await).await;
    assert_eq!((reserved.amount_minor, reserved.quantity), (1600, 2));
    assert_eq!(app.window_counts("nord", app.window(1)).await.capacity, 2);

    let same = put_venue(&app, "nord", &venue_body("Club Nord", 8, 800), "ana").await;
    assert_eq!(same.json::<Value>().await.unwrap()["outcome"], "unchanged");
    let changed = put_venue(&app, "nord", &venue_body("Club Nord", 8, 900), "ben").await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.json::<Value>().await.unwrap()["outcome"], "changed");
    let venue: Value = app.api.client.get(app.url("/v1/venues/nord")).send().await.unwrap().json().await.unwrap();
    assert_eq!(venue["price_minor"], 900);

    let changes: Vec<(u64, String)> = records(&app)
        .into_iter()
        .filter_map(|record| match record {
            Record::Venue(VenueEvent::VenueChanged { venue, by }) if venue.id.as_str() == "nord" => {
                Some((venue.price_minor, by))
            }
            _ => None,
        })
        .collect();
    assert_eq!(changes, vec![(800, "admin:ana".to_owned()), (900, "admin:ben".to_owned())]);

    // Bad definitions are refused with a reason and record nothing.
    let seq = app.services.log().last_seq().unwrap();
    let bad_zone =
        json!({"name": "X", "timezone": "Mars/Olympus", "price_minor": 1, "currency": "eur", "slots_per_hour": 4});
    assert_error(put_venue(&app, "nord", &bad_zone, "ana").await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_venue")
        .await;
    let unknown_field =
        json!({"name": "X", "timezone": "UTC", "price_minor": 1, "currency": "eur", "slots_per_hour": 4, "x": 1});
    assert_error(put_venue(&app, "nord", &unknown_field, "ana").await, StatusCode::BAD_REQUEST, "invalid_body").await;
    let bad_operator = put_venue(&app, "nord", &venue_body("X", 4, 1), "ana smith").await;
    assert_error(bad_operator, StatusCode::BAD_REQUEST, "invalid_operator").await;
    let bad_id = put_venue(&app, "Nord!", &venue_body("X", 4, 1), "ana").await;
    assert_error(bad_id, StatusCode::UNPROCESSABLE_ENTITY, "invalid_venue").await;
    assert_eq!(app.services.log().last_seq().unwrap(), seq);
}

#[actix_web::test]
async fn a_capacity_cut_keeps_holds_and_confirmations_and_refuses_new_holds_until_the_window_drains() {
    let app = admin_app(4).await;
    let (cut, later, unopened) = (app.window(1), app.window(2), app.window(3));
    let paid = created(app.reserve_in(VENUE, cut, 2).await).await;
    assert_eq!(app.dev_pay(&paid.id).await.status(), 303);
    let held = created(app.reserve_in(VENUE, cut, 2).await).await;
    created(app.reserve_in(VENUE, later, 1).await).await;

    // 16 -> 8 slots per hour: capacity 4 -> 2, below the 4 committed in `cut`.
    let response = put_venue(&app, VENUE, &venue_body("Test venue bar", 8, 500), "ana").await;
    assert_eq!(response.status(), StatusCode::OK);
    let change: Value = response.json().await.unwrap();
    let reported: Vec<(String, bool)> = change["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["start"].as_str().unwrap().to_owned(), w["overcommitted"].as_bool().unwrap()))
        .collect();
    assert_eq!(reported, vec![(rfc3339(cut), true), (rfc3339(later), false)]);

    let counts = app.window_counts(VENUE, cut).await;
    assert_eq!((counts.capacity, counts.confirmed, counts.held, counts.available), (2, 2, 2, 0));
    assert!(counts.overcommitted);
    assert_eq!(app.window_counts(VENUE, unopened).await.capacity, 2, "an unopened window takes the new schedule");
    assert_eq!(scrape_overcommitted(&app).await, 1.0);
    let refused = assert_error(app.reserve_in(VENUE, cut, 1).await, StatusCode::CONFLICT, "sold_out").await;
    assert_eq!(refused["available"], 0);
    assert_eq!(app.reservation(&paid.id).await.status, "confirmed");
    assert_eq!(app.reservation(&held.id).await.status, "held");

    // The held slots drain (released by hand): exactly at capacity, still no room.
    assert_eq!(release(&app, &held.id, "door").await.status(), StatusCode::OK);
    let drained = app.window_counts(VENUE, cut).await;
    assert_eq!((drained.confirmed, drained.held, drained.available, drained.overcommitted), (2, 0, 0, false));
    assert_eq!(scrape_overcommitted(&app).await, 0.0);
    assert_error(app.reserve_in(VENUE, cut, 1).await, StatusCode::CONFLICT, "sold_out").await;

    // Raising the capacity again gives room at once.
    put_venue(&app, VENUE, &venue_body("Test venue bar", 16, 500), "ana").await;
    created(app.reserve_in(VENUE, cut, 2).await).await;
    let by: Vec<(u32, String)> = records(&app)
        .into_iter()
        .filter_map(|record| match record {
            Record::Window(key, WindowEvent::CapacityChanged { capacity, by, .. }) if key.start == cut => {
                Some((capacity, by))
            }
            _ => None,
        })
        .collect();
    assert_eq!(by, vec![(2, "admin:ana".to_owned()), (4, "admin:ana".to_owned())]);
    assert_replay_clean(&app);
}

async fn scrape_overcommitted(app: &TestApp) -> f64 {
    value(&scrape(app).await, &format!("qskip_windows_overcommitted{{venue=\"{VENUE}\"}}"))
}

#[actix_web::test]
async fn capacity_changes_racing_reservations_never_grant_beyond_the_capacity_in_force() {
    let app = admin_app(10).await;
    let window = app.window(1);
    for round in 0..6u32 {
        let slots = if round % 2 == 0 { 8 } else { 40 };
        let reserves = all((0..24).map(|_| app.reserve_in(VENUE, window, 1)));
        let body = venue_body("Test venue bar", slots, 500);
        let change = put_venue(&app, VENUE, &body, "ana");
        let (responses, changed) = futures_util::join!(reserves, change);
        assert!(changed.status().is_success(), "{}", changed.status());
        for response in responses {
            assert!(matches!(response.status().as_u16(), 201 | 409), "{}", response.status());
        }
        let counts = app.window_counts(VENUE, window).await;
        assert_eq!(counts.capacity, slots / 4);
        assert!(counts.overcommitted || counts.held + counts.confirmed <= counts.capacity, "{counts:?}");
    }
    assert_replay_clean(&app);
}

#[actix_web::test]
async fn a_hold_is_released_by_hand_and_listed_with_its_window() {
    let app = admin_app(2).await;
    let window = app.window(1);
    let body = json!({"quantity": 1, "window_start": rfc3339(window), "email": "ada@example.com"});
    let a = created(app.reserve_at(VENUE, &body, None).await).await;
    app.advance(chrono::Duration::seconds(1));
    let b = created(app.reserve_in(VENUE, window, 1).await).await;
    assert_eq!(app.dev_pay(&b.id).await.status(), 303);
    assert_error(app.reserve_in(VENUE, window, 1).await, StatusCode::CONFLICT, "sold_out").await;

    let listed = window_reservations(&app, window).await;
    assert_eq!(listed["window"]["held"], 1);
    let rows: Vec<(String, String, Value)> = listed["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().into(), r["status"].as_str().unwrap().into(), r["email"].clone()))
        .collect();
    assert_eq!(
        rows,
        vec![(a.id.clone(), "held".into(), json!("ada@example.com")), (b.id.clone(), "confirmed".into(), Value::Null)]
    );

    let released: Value = release(&app, &a.id, "door-staff").await.json().await.unwrap();
    assert_eq!(released["status"], "cancelled");
    assert_eq!(app.reservation(&a.id).await.status, "cancelled");
    created(app.reserve_in(VENUE, window, 1).await).await;
    let again = release(&app, &a.id, "door-staff").await;
    assert_eq!(again.status(), StatusCode::OK, "releasing a released hold changes nothing");
    assert_error(release(&app, &b.id, "door-staff").await, StatusCode::CONFLICT, "already_confirmed").await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_error(release(&app, unknown, "door-staff").await, StatusCode::NOT_FOUND, "reservation_not_found").await;

    let releases: Vec<String> = records(&app)
        .into_iter()
        .filter_map(|record| match record {
            Record::Window(_, WindowEvent::HoldReleased { by, .. }) => Some(by),
            _ => None,
        })
        .collect();
    assert_eq!(releases, vec!["admin:door-staff".to_owned()]);
    let unaligned =
        format!("/v1/admin/venues/{VENUE}/windows/{}/reservations", rfc3339(window + chrono::Duration::minutes(1)));
    let response = authed(&app, Method::GET, &unaligned).send().await.unwrap();
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "window_not_aligned").await;
    assert_replay_clean(&app);
}

#[actix_web::test]
async fn a_payment_is_checked_against_the_price_its_hold_was_sold_at() {
    let stripe = wiremock::MockServer::start().await;
    let payments = crate::stripe_fake::stripe_config(&stripe.uri());
    let app = spawn_app_with(AppOptions::capacity(2).payments(payments).admin_token(TOKEN)).await;
    let window = app.window(1);
    let before = created(app.reserve_in(VENUE, window, 1).await).await;
    assert_eq!(before.amount_minor, 500);
    app.advance(chrono::Duration::seconds(1));
    let response = put_venue(&app, VENUE, &venue_body("Test venue bar", 8, 900), "ana").await;
    assert_eq!(response.status(), StatusCode::OK);
    app.advance(chrono::Duration::seconds(1));
    let after = created(app.reserve_in(VENUE, window, 1).await).await;
    assert_eq!(after.amount_minor, 900);

    let now = app.now().timestamp();
    let old_price =
        crate::stripe_fake::event("evt_old", "checkout.session.completed", &before.id, "pi_old", "paid", 500);
    assert_eq!(crate::stripe_fake::post_signed(&app.api, &old_price, now).await.status(), StatusCode::OK);
    assert_eq!(app.reservation(&before.id).await.status, "confirmed", "paid the price it was sold at");
    let stale =
        crate::stripe_fake::event("evt_stale", "checkout.session.completed", &after.id, "pi_stale", "paid", 500);
    assert_eq!(crate::stripe_fake::post_signed(&app.api, &stale, now).await.status(), StatusCode::OK);
    assert_eq!(app.reservation(&after.id).await.status, "refund_owed", "the old price is not the new hold's price");
}

/// A price change between hold and payment changes nothing for holds already placed:
/// the reservation, the dev checkout page and Stripe's checkout all show the hold's
/// amount, and paying it (dev page, or a Stripe webhook of that amount) confirms.
#[actix_web::test]
async fn a_hold_keeps_its_amount_through_a_price_change_on_every_payment_path() {
    let stripe = wiremock::MockServer::start().await;
    let options = AppOptions::capacity(4).payments(crate::stripe_fake::stripe_config(&stripe.uri()));
    let app = spawn_app_with(options.admin_token(TOKEN)).await;
    let window = app.window(1);
    let dev = created(app.reserve_in(VENUE, window, 2).await).await;
    let hooked = created(app.reserve_in(VENUE, window, 1).await).await;
    assert_eq!((dev.amount_minor, hooked.amount_minor), (1000, 500));
    app.advance(chrono::Duration::seconds(1));
    let response = put_venue(&app, VENUE, &venue_body("Test venue bar", 16, 900), "ana").await;
    assert_eq!(response.status(), StatusCode::OK);
    app.advance(chrono::Duration::seconds(1));

    assert_eq!(app.reservation(&dev.id).await.amount_minor, 1000, "the hold's amount, not 2 x 900");
    let page = app.dev_page(&dev.id).await.text().await.unwrap();
    assert!(page.contains("Pay 10.00 EUR"), "the dev page charges the hold's amount: {page}");
    let paid = app.dev_pay(&dev.id).await;
    assert_eq!(crate::helpers::dev_result(&paid, &dev.id), "paid");
    let dev_after = app.reservation(&dev.id).await;
    assert_eq!((dev_after.status.as_str(), dev_after.amount_minor), ("confirmed", 1000));

    let now = app.now().timestamp();
    let body = crate::stripe_fake::event("evt_hook", "checkout.session.completed", &hooked.id, "pi_hook", "paid", 500);
    assert_eq!(crate::stripe_fake::post_signed(&app.api, &body, now).await.status(), StatusCode::OK);
    let hooked_after = app.reservation(&hooked.id).await;
    assert_eq!((hooked_after.status.as_str(), hooked_after.amount_minor), ("confirmed", 500));
    assert_replay_clean(&app);
}
