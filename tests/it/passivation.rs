//! Passivation: the actor of a finished window stops when idle, the live-actor count
//! falls, and a later message revives it from its own events with the same state.
//!
//! Actors check for idleness on a wall-clock interval (1 s here); the tests wait for
//! the checks to happen (the registry counts them), never for a fixed time.

use chrono::Duration;

use crate::helpers::{AppOptions, TestApp, VENUE, created, eventually, spawn_app_with};

#[actix_web::test]
async fn a_finished_idle_window_stops_and_a_late_query_revives_it() {
    let app = spawn_app_with(AppOptions::capacity(3).actor_idle_secs(1)).await;
    let (finished, open) = (app.window(0), app.window(8));
    let paid = created(app.reserve_in(VENUE, finished, 1).await).await;
    assert_eq!(app.dev_pay(&paid.id).await.status(), 303);
    let held = created(app.reserve_in(VENUE, finished, 2).await).await;
    created(app.reserve_in(VENUE, open, 1).await).await;
    assert_eq!(app.services.windows.live_count(), 2);

    // The first window ends and its hold expires; the other window stays open.
    app.advance(Duration::minutes(45));
    wait_for_live_count(&app, 1).await;

    // Weeks later every window has finished and stopped...
    app.advance(Duration::weeks(3));
    wait_for_live_count(&app, 0).await;
    // ...and a status query brings one back with the right state.
    assert_eq!(app.reservation(&paid.id).await.status, "confirmed");
    assert_eq!(app.reservation(&held.id).await.status, "expired");
    assert_eq!(app.services.windows.live_count(), 1);
    let counts = app.window_counts(VENUE, finished).await;
    assert_eq!((counts.confirmed, counts.held), (1, 0));
}

async fn wait_for_live_count(app: &TestApp, count: usize) {
    eventually(&format!("{count} live window actors"), || async {
        let live = app.services.windows.live_count();
        if live == count { Ok(()) } else { Err(live) }
    })
    .await;
}

#[actix_web::test]
async fn a_window_with_a_live_hold_is_not_passivated() {
    let app = spawn_app_with(AppOptions::capacity(3).actor_idle_secs(1)).await;
    let current = app.window(0);
    let held = created(app.reserve_in(VENUE, current, 1).await).await;
    // The window ends but the 30-minute hold is still live: the actor must stay.
    app.advance(Duration::minutes(20));
    // Two checks after the clock moved: the first may have read the old time, and an
    // actor counts as idle one interval after its last message, which the second
    // check (two intervals after the actor started) is past.
    let checks = app.services.windows.passivation_checks();
    eventually("two passivation checks", || async {
        let now = app.services.windows.passivation_checks();
        if now >= checks + 2 { Ok(()) } else { Err(now) }
    })
    .await;
    assert_eq!(app.services.windows.live_count(), 1);
    assert_eq!(app.reservation(&held.id).await.status, "held");
}
