//! `Idempotency-Key` on create: a retry gets the first answer (a reservation or a
//! sold-out), a different request under the same key is refused, concurrent retries do
//! not create twice, and the recorded answers survive a restart of the binary.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, BinaryHome, VENUE, VenueSpec, all, assert_error, created, rfc3339, spawn_app_with, wall_window,
};

fn body(start: chrono::DateTime<chrono::Utc>, quantity: u32) -> Value {
    json!({ "quantity": quantity, "window_start": rfc3339(start), "email": "ada@example.com" })
}

#[actix_web::test]
async fn same_key_and_body_return_the_same_reservation() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    let start = app.window(1);
    let first = created(app.reserve_at(VENUE, &body(start, 2), Some("key-1")).await).await;
    let again = created(app.reserve_at(VENUE, &body(start, 2), Some("key-1")).await).await;
    assert_eq!(again.id, first.id, "a retry gets the same reservation");
    assert_eq!(again, first);
    assert_eq!(app.window_counts(VENUE, start).await.held, 2, "the retry placed no second hold");

    // The retry answers the reservation as it is now, not as it was.
    assert_eq!(crate::helpers::dev_result(&app.dev_pay(&first.id).await, &first.id), "paid");
    let paid = created(app.reserve_at(VENUE, &body(start, 2), Some("key-1")).await).await;
    assert_eq!((paid.id.as_str(), paid.status.as_str()), (first.id.as_str(), "confirmed"));

    // Another key is another reservation; no key is always a new one.
    let other = created(app.reserve_at(VENUE, &body(start, 2), Some("key-2")).await).await;
    assert_ne!(other.id, first.id);
    let unkeyed = created(app.reserve_at(VENUE, &body(start, 1), None).await).await;
    assert_ne!(unkeyed.id, first.id);
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed, window.available), (3, 2, 0));
}

#[actix_web::test]
async fn same_key_with_another_request_is_refused() {
    let app = spawn_app_with(AppOptions::capacity(5).venue(VenueSpec::new("club", 40))).await;
    let start = app.window(1);
    let first = created(app.reserve_at(VENUE, &body(start, 2), Some("key-1")).await).await;
    let changes = [
        (VENUE, body(start, 3)),
        (VENUE, body(app.window(2), 2)),
        (VENUE, json!({ "quantity": 2, "window_start": rfc3339(start) })),
        (VENUE, json!({ "quantity": 2, "window_start": rfc3339(start), "email": "bob@example.com" })),
    ];
    for (venue, changed) in &changes {
        let response = app.reserve_at(venue, changed, Some("key-1")).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    }
    assert_eq!(app.window_counts(VENUE, start).await.held, 2, "refused retries change nothing");
    assert_eq!(app.window_counts(VENUE, app.window(2)).await.held, 0);
    // The original request still gets its answer.
    assert_eq!(created(app.reserve_at(VENUE, &body(start, 2), Some("key-1")).await).await.id, first.id);
}

/// Keys are scoped by venue: the same key at another venue is another request, and
/// each venue's retry gets its own answer.
#[actix_web::test]
async fn the_same_key_at_another_venue_is_another_request() {
    let app = spawn_app_with(AppOptions::capacity(5).venue(VenueSpec::new("club", 40))).await;
    let start = app.window(1);
    let at_bar = created(app.reserve_at(VENUE, &body(start, 2), Some("order-17")).await).await;
    let at_club = created(app.reserve_at("club", &body(start, 2), Some("order-17")).await).await;
    assert_ne!(at_bar.id, at_club.id);
    assert_eq!(created(app.reserve_at(VENUE, &body(start, 2), Some("order-17")).await).await.id, at_bar.id);
    assert_eq!(created(app.reserve_at("club", &body(start, 2), Some("order-17")).await).await.id, at_club.id);
    assert_eq!(app.window_counts(VENUE, start).await.held, 2);
    assert_eq!(app.window_counts("club", start).await.held, 2);
}

#[actix_web::test]
async fn a_keyed_sold_out_stays_sold_out_even_after_a_slot_frees() {
    let app = spawn_app_with(AppOptions::capacity(2)).await;
    let start = app.window(1);
    let holder = created(app.reserve_in(VENUE, start, 1).await).await;
    let first =
        assert_error(app.reserve_at(VENUE, &body(start, 2), Some("late")).await, StatusCode::CONFLICT, "sold_out")
            .await;
    assert_eq!(first["available"], 1);
    let again =
        assert_error(app.reserve_at(VENUE, &body(start, 2), Some("late")).await, StatusCode::CONFLICT, "sold_out")
            .await;
    assert_eq!(again, first, "the same answer twice");

    assert_eq!(app.cancel(&holder.id).await.status(), StatusCode::OK);
    assert_eq!(app.window_counts(VENUE, start).await.available, 2, "room now");
    let after =
        assert_error(app.reserve_at(VENUE, &body(start, 2), Some("late")).await, StatusCode::CONFLICT, "sold_out")
            .await;
    assert_eq!(after["available"], first["available"], "a retry replays the recorded answer");
    assert_eq!(app.window_counts(VENUE, start).await.held, 0);
    // A new key is a new request and gets the room.
    created(app.reserve_at(VENUE, &body(start, 2), Some("fresh")).await).await;
}

#[actix_web::test]
async fn concurrent_retries_with_one_key_place_one_hold() {
    let app = spawn_app_with(AppOptions::capacity(20)).await;
    for round in 0..5 {
        let start = app.window(1 + round);
        let key = format!("burst-{round}");
        let request = body(start, 1);
        let responses = all((0..16).map(|_| app.reserve_at(VENUE, &request, Some(&key)))).await;
        let mut ids = Vec::new();
        for response in responses {
            match response.status() {
                StatusCode::CREATED => ids.push(created(response).await.id),
                _ => {
                    let retry_after = response.headers().get("Retry-After").cloned();
                    assert_error(response, StatusCode::CONFLICT, "idempotency_in_progress").await;
                    assert!(retry_after.is_some(), "in-progress tells when to retry");
                }
            }
        }
        assert!(!ids.is_empty(), "round {round}: at least the first request succeeds");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1, "round {round}: every success names the same reservation");
        assert_eq!(app.window_counts(VENUE, start).await.held, 1, "round {round}: one hold");
    }
}

/// The recorded answers live in the log: after a graceful stop and after kill -9, the
/// binary answers a retry exactly as before.
#[actix_web::test]
async fn keyed_answers_survive_a_restart() {
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 8)]);
    let (start, full) = (wall_window(2), wall_window(3));
    let mut binary = home.start();
    let reserved = created(binary.reserve_at(VENUE, &body(start, 1), Some("before-term")).await).await;
    created(binary.reserve_in(VENUE, full, 2).await).await;
    let sold_out =
        assert_error(binary.reserve_at(VENUE, &body(full, 1), Some("sold")).await, StatusCode::CONFLICT, "sold_out")
            .await;
    assert!(binary.terminate().success(), "graceful stop: {}", binary.stderr());

    let mut binary = home.start();
    let retried = created(binary.reserve_at(VENUE, &body(start, 1), Some("before-term")).await).await;
    assert_eq!(retried.id, reserved.id, "same reservation after a graceful restart");
    let again =
        assert_error(binary.reserve_at(VENUE, &body(full, 1), Some("sold")).await, StatusCode::CONFLICT, "sold_out")
            .await;
    assert_eq!(again, sold_out);
    let response = binary.reserve_at(VENUE, &body(start, 2), Some("before-term")).await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;

    let acked = created(binary.reserve_at(VENUE, &body(start, 1), Some("before-kill")).await).await;
    binary.kill_9();
    let binary = home.start();
    let retried = created(binary.reserve_at(VENUE, &body(start, 1), Some("before-kill")).await).await;
    assert_eq!(retried.id, acked.id, "same reservation after kill -9");
    assert_eq!(binary.reservation(&reserved.id).await.status, "held");
    assert_eq!(binary.window_counts(VENUE, start).await.held, 2, "no hold was placed twice");
}
