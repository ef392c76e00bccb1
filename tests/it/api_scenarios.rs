//! End-to-end scenarios over HTTP: the last slot, many buyers for one slot, expiry and
//! cancellation freeing slots, window counts, and the 404s of unknown things.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    AppOptions, BinaryHome, VENUE, VenueSpec, all, assert_error, created, eventually, rfc3339, spawn_app,
    spawn_app_with, wall_window,
};
use crate::metrics::{scrape, value};

#[actix_web::test]
async fn the_last_slot_sells_once_then_sold_out() {
    let app = spawn_app_with(AppOptions::capacity(3)).await;
    let start = app.window(1);
    // Two of three slots go first, then the last one.
    let first = created(app.reserve_in(VENUE, start, 2).await).await;
    assert_eq!(first.status, "held");
    assert_eq!(first.quantity, 2);
    assert_eq!(first.window_start, start);
    assert_eq!(first.window_end, start + Duration::minutes(15));
    assert_eq!(first.amount_minor, 1000);
    assert_eq!(first.currency, "eur");
    assert_eq!(first.expires_at, app.now() + Duration::minutes(30));
    assert!(first.checkout_url.ends_with(&format!("/dev/checkout/{}", first.id)), "{}", first.checkout_url);
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.capacity, window.held, window.confirmed, window.available), (3, 2, 0, 1));

    let last = created(app.reserve_in(VENUE, start, 1).await).await;
    assert_ne!(last.id, first.id);
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.available), (3, 0));

    let refused = app.reserve_in(VENUE, start, 1).await;
    let error = assert_error(refused, StatusCode::CONFLICT, "sold_out").await;
    assert_eq!(error["available"], 0, "{error}");

    // Asking for more than is left reports what is left.
    let other = app.window(2);
    created(app.reserve_in(VENUE, other, 2).await).await;
    let error = assert_error(app.reserve_in(VENUE, other, 2).await, StatusCode::CONFLICT, "sold_out").await;
    assert_eq!(error["available"], 1, "{error}");
    assert_eq!(app.window_counts(VENUE, start).await.held, 3, "refusals change nothing");
}

#[actix_web::test]
async fn many_buyers_for_one_slot_exactly_one_wins() {
    let app = spawn_app_with(AppOptions::capacity(1)).await;
    let start = app.window(1);
    let responses = all((0..32).map(|_| app.reserve_in(VENUE, start, 1))).await;
    let mut winners = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::CREATED => winners.push(created(response).await),
            _ => {
                let error = assert_error(response, StatusCode::CONFLICT, "sold_out").await;
                assert_eq!(error["available"], 0);
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of 32 buyers gets the one slot");
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.capacity, window.held, window.confirmed, window.available), (1, 1, 0, 0));
    assert_eq!(app.reservation(&winners[0].id).await.status, "held");
}

#[actix_web::test]
async fn an_expired_hold_frees_its_slot() {
    let app = spawn_app_with(AppOptions::capacity(2).hold_ttl_secs(60)).await;
    let start = app.window(1);
    let old = created(app.reserve_in(VENUE, start, 2).await).await;
    assert_eq!(old.expires_at, app.now() + Duration::seconds(60));
    assert_error(app.reserve_in(VENUE, start, 1).await, StatusCode::CONFLICT, "sold_out").await;

    // One microsecond before expiry the hold still counts.
    app.advance(Duration::seconds(60) - Duration::microseconds(1));
    assert_eq!(app.reservation(&old.id).await.status, "held");
    assert_error(app.reserve_in(VENUE, start, 1).await, StatusCode::CONFLICT, "sold_out").await;

    app.advance(Duration::microseconds(1));
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.available), (0, 2), "a dead hold no longer counts");
    assert_eq!(app.reservation(&old.id).await.status, "expired");
    let new = created(app.reserve_in(VENUE, start, 2).await).await;
    assert_eq!(new.status, "held");
    assert_eq!(app.reservation(&old.id).await.status, "expired", "the old hold stays expired");
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed, window.available), (2, 0, 0));
    // An expired hold cannot be cancelled any more.
    assert_error(app.cancel(&old.id).await, StatusCode::CONFLICT, "hold_expired").await;
}

#[actix_web::test]
async fn cancel_frees_the_slot() {
    let app = spawn_app_with(AppOptions::capacity(1)).await;
    let start = app.window(1);
    let first = created(app.reserve_in(VENUE, start, 1).await).await;
    assert_error(app.reserve_in(VENUE, start, 1).await, StatusCode::CONFLICT, "sold_out").await;

    let response = app.cancel(&first.id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cancelled: crate::helpers::ReservationJson = response.json().await.expect("cancel answers the reservation");
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(app.reservation(&first.id).await.status, "cancelled");
    assert_eq!(app.window_counts(VENUE, start).await.available, 1);

    // Cancelling twice is a no-op, not an error.
    assert_eq!(app.cancel(&first.id).await.status(), StatusCode::OK);
    let second = created(app.reserve_in(VENUE, start, 1).await).await;
    assert_eq!(app.reservation(&second.id).await.status, "held");
    assert_eq!(app.reservation(&first.id).await.status, "cancelled");
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.available), (1, 0));
}

#[actix_web::test]
async fn windows_reflect_held_confirmed_and_available() {
    let app = spawn_app_with(AppOptions::capacity(10)).await;
    let (a, b) = (app.window(1), app.window(2));
    let held = created(app.reserve_in(VENUE, a, 3).await).await;
    let paid = created(app.reserve_in(VENUE, a, 2).await).await;
    let gone = created(app.reserve_in(VENUE, a, 4).await).await;
    created(app.reserve_in(VENUE, b, 1).await).await;
    assert_eq!(crate::helpers::dev_result(&app.dev_pay(&paid.id).await, &paid.id), "paid");
    assert_eq!(app.cancel(&gone.id).await.status(), StatusCode::OK);

    let windows = app.window_range(VENUE, app.window(0), app.window(3)).await;
    let counts: Vec<_> = windows.iter().map(|w| (w.start, w.capacity, w.held, w.confirmed, w.available)).collect();
    assert_eq!(
        counts,
        vec![(app.window(0), 10, 0, 0, 10), (a, 10, 3, 2, 5), (b, 10, 1, 0, 9)],
        "three windows from the current one"
    );
    assert_eq!(app.reservation(&held.id).await.status, "held");

    // Without a range, the answer is the current window only.
    let response = app.windows(VENUE, None, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let current: Vec<crate::helpers::WindowCountsJson> = response.json().await.expect("JSON");
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].start, app.window(0));
    // `from` alone is one window; a range not on boundaries covers the windows it touches.
    let response = app.windows(VENUE, Some(a + Duration::minutes(1)), Some(b + Duration::seconds(1))).await;
    let touched: Vec<crate::helpers::WindowCountsJson> = response.json().await.expect("JSON");
    assert_eq!(touched.iter().map(|w| w.start).collect::<Vec<_>>(), vec![a, b]);
}

#[actix_web::test]
async fn capacity_follows_the_local_schedule_of_the_venue() {
    // 2026-11-28 is a Saturday; Europe/Berlin is UTC+1. Local 14:00-15:00 has 8 slots per
    // hour (capacity 2); every other hour 40 (capacity 10).
    let berlin = VenueSpec::new("berlin", 40).timezone("Europe/Berlin").override_hours(&["sat"], &[14], 8);
    let app = spawn_app_with(AppOptions::default().venue(berlin)).await;
    let start = crate::helpers::at("2026-11-28T12:45:00Z");
    let windows = app.window_range("berlin", start, start + Duration::minutes(90)).await;
    let capacities: Vec<_> = windows.iter().map(|w| (rfc3339(w.start), w.capacity)).collect();
    let expected = [
        ("2026-11-28T12:45:00Z", 10),
        ("2026-11-28T13:00:00Z", 2),
        ("2026-11-28T13:15:00Z", 2),
        ("2026-11-28T13:30:00Z", 2),
        ("2026-11-28T13:45:00Z", 2),
        ("2026-11-28T14:00:00Z", 10),
    ];
    assert_eq!(capacities, expected.map(|(s, c)| (s.to_owned(), c)).to_vec());
    let start = crate::helpers::at("2026-11-28T13:15:00Z");
    created(app.reserve_in("berlin", start, 2).await).await;
    let error = assert_error(app.reserve_in("berlin", start, 1).await, StatusCode::CONFLICT, "sold_out").await;
    assert_eq!(error["available"], 0);

    let venue: serde_json::Value =
        app.client.get(app.url("/v1/venues/berlin")).send().await.expect("answered").json().await.expect("JSON");
    assert_eq!(venue["timezone"], "Europe/Berlin");
    assert_eq!(venue["overrides"], json!([{ "weekday": "sat", "hour": 14, "slots_per_hour": 8 }]));
    let list: Vec<serde_json::Value> =
        app.client.get(app.url("/v1/venues")).send().await.expect("answered").json().await.expect("JSON");
    let mut ids: Vec<_> = list.iter().map(|v| v["id"].as_str().expect("id").to_owned()).collect();
    ids.sort();
    assert_eq!(ids, ["bar", "berlin"]);
}

#[actix_web::test]
async fn unknown_venue_and_unknown_reservation_are_404() {
    let app = spawn_app().await;
    let start = app.window(1);
    assert_error(app.reserve_in("nowhere", start, 1).await, StatusCode::NOT_FOUND, "venue_not_found").await;
    assert_error(app.windows("nowhere", None, None).await, StatusCode::NOT_FOUND, "venue_not_found").await;
    let response = app.client.get(app.url("/v1/venues/nowhere")).send().await.expect("answered");
    assert_error(response, StatusCode::NOT_FOUND, "venue_not_found").await;

    let unknown = uuid::Uuid::new_v4().to_string();
    assert_error(app.get_reservation(&unknown).await, StatusCode::NOT_FOUND, "reservation_not_found").await;
    assert_error(app.cancel(&unknown).await, StatusCode::NOT_FOUND, "reservation_not_found").await;
    assert_error(app.dev_page(&unknown).await, StatusCode::NOT_FOUND, "reservation_not_found").await;
    assert_eq!(crate::helpers::dev_result(&app.dev_pay(&unknown).await, &unknown), "reservation_not_found");
}

/// Real clock, 1 s holds: the expiry timer (not a later request) ends the hold. GET
/// windows shows it freed; the log then holds a `HoldExpired` that no request caused
/// (counts alone are computed lazily and would not prove the timer).
#[actix_web::test]
async fn the_expiry_timer_frees_the_slot_on_the_real_clock() {
    // Both holds are placed first, so that their seconds run out together.
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 4).hold_ttl_secs(1)]);
    let mut binary = home.start();
    let binary_start = wall_window(1);
    let hold = created(binary.reserve_in(VENUE, binary_start, 1).await).await;
    let app = spawn_app_with(AppOptions::capacity(1).hold_ttl_secs(1).system_clock()).await;
    let start = app.window(1);
    created(app.reserve_in(VENUE, start, 1).await).await;

    // In-process: the slot is visibly free again.
    assert_eq!(app.window_counts(VENUE, start).await.held, 1);
    eventually("the in-process hold to be freed", || async {
        let window = app.window_counts(VENUE, start).await;
        if window.held == 0 && window.available == 1 { Ok(()) } else { Err(window) }
    })
    .await;

    // The binary: nobody touches the window (its metrics are no request to it), yet the
    // timer expires the hold, and the log shows the timer's HoldExpired.
    eventually("the binary's expiry timer to expire the hold", || async {
        let expired = value(&scrape(&binary).await, &format!("qskip_holds_expired_total{{venue=\"{VENUE}\"}}"));
        if expired >= 1.0 { Ok(()) } else { Err(expired) }
    })
    .await;
    assert!(binary.terminate().success(), "graceful stop: {}", binary.stderr());
    let log = qskip::store::EventLog::open(&home.data_dir).expect("the stopped binary released the data dir");
    let expired = log.iter().map(|r| r.expect("the log reads back")).any(|(_, _, record)| {
        matches!(record, qskip::store::Record::Window(_, qskip::domain::WindowEvent::HoldExpired { reservation_id, .. })
            if reservation_id.to_string() == hold.id)
    });
    assert!(expired, "no HoldExpired was logged for {} although the metrics counted its expiry", hold.id);
}
