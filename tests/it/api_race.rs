//! The oversell race the old system lost: 64 concurrent buyers for the last K slots of a
//! window, repeated on fresh windows. Exactly K win, everyone else is told `sold_out`
//! with nothing left, and the window shows K more held.

use std::time::Instant;

use reqwest::StatusCode;

use crate::helpers::{AppOptions, TestApp, VENUE, all, assert_error, created, spawn_app_with};

const CAPACITY: u32 = 8;
const BUYERS: usize = 64;
const ROUNDS: i64 = 50;

/// One round: fill the window up to its last `k` slots, then 64 buyers at once.
async fn race_for_last(app: &TestApp, window_offset: i64, k: u32) {
    let start = app.window(window_offset);
    let taken = CAPACITY - k;
    if taken > 0 {
        created(app.reserve_in(VENUE, start, taken).await).await;
    }
    let before = app.window_counts(VENUE, start).await;
    assert_eq!((before.held, before.available), (taken, k), "round at {start}: set-up");

    let responses = all((0..BUYERS).map(|_| app.reserve_in(VENUE, start, 1))).await;
    let mut ids = Vec::new();
    for response in responses {
        if response.status() == StatusCode::CREATED {
            ids.push(created(response).await.id);
        } else {
            let error = assert_error(response, StatusCode::CONFLICT, "sold_out").await;
            assert_eq!(error["available"], 0, "round at {start}: a refusal while slots were left: {error}");
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), k as usize, "round at {start}: exactly {k} of {BUYERS} buyers win");
    let after = app.window_counts(VENUE, start).await;
    assert_eq!((after.held, after.confirmed, after.available), (CAPACITY, 0, 0), "round at {start}: counts");
}

#[actix_web::test]
async fn concurrent_buyers_never_oversell_the_last_slots() {
    let app = spawn_app_with(AppOptions::capacity(CAPACITY)).await;
    let started = Instant::now();
    for round in 0..ROUNDS {
        // A fresh window per round: windows 1..=ROUNDS for K = 1, the next ones for K = 5.
        race_for_last(&app, 1 + round, 1).await;
        race_for_last(&app, 1 + ROUNDS + round, 5).await;
    }
    // The rounds did not disturb each other: every window used is full, none beyond.
    let windows = app.window_range(VENUE, app.window(1), app.window(1 + 2 * ROUNDS + 1)).await;
    assert_eq!(windows.len(), 2 * ROUNDS as usize + 1);
    for window in &windows[..2 * ROUNDS as usize] {
        assert_eq!((window.held, window.available), (CAPACITY, 0), "{window:?}");
    }
    assert_eq!(windows.last().map(|w| w.held), Some(0));
    eprintln!("race: {} rounds of {BUYERS} buyers in {:?}", 2 * ROUNDS, started.elapsed());
}

/// Buyers of different sizes at once: the sum granted never exceeds capacity, and the
/// window ends exactly full when the requests could fill it.
#[actix_web::test]
async fn concurrent_mixed_quantities_never_exceed_capacity() {
    let app = spawn_app_with(AppOptions::capacity(CAPACITY)).await;
    for round in 0..5 {
        let start = app.window(1 + round);
        let responses = all((0..BUYERS).map(|i| app.reserve_in(VENUE, start, 1 + (i % 3) as u32))).await;
        let mut granted = 0;
        for response in responses {
            if response.status() == StatusCode::CREATED {
                granted += created(response).await.quantity;
            } else {
                let error = assert_error(response, StatusCode::CONFLICT, "sold_out").await;
                assert!(error["available"].as_u64().is_some_and(|a| a < 3), "{error}");
            }
        }
        assert!(granted <= CAPACITY, "round {round}: {granted} slots granted of {CAPACITY}");
        let window = app.window_counts(VENUE, start).await;
        assert_eq!(window.held, granted, "round {round}: held matches what was granted");
        // Room only shrinks, so if 3 slots were still free at the end no request of 1-3
        // slots could have been refused and all 64 would have been granted.
        assert!(window.available < 3, "round {round}: {window:?}");
    }
}

/// The same race when the slots come free by expiry: the dead holds are noticed by the
/// first decision, and still exactly `CAPACITY` buyers win.
#[actix_web::test]
async fn concurrent_buyers_after_a_mass_expiry_never_oversell() {
    let app = spawn_app_with(AppOptions::capacity(CAPACITY).hold_ttl_secs(60)).await;
    let start = app.window(1);
    let mut old = Vec::new();
    for _ in 0..CAPACITY {
        old.push(created(app.reserve_in(VENUE, start, 1).await).await.id);
    }
    app.advance(chrono::Duration::seconds(60));
    let responses = all((0..BUYERS).map(|_| app.reserve_in(VENUE, start, 1))).await;
    let mut winners = 0;
    for response in responses {
        if response.status() == StatusCode::CREATED {
            winners += 1;
        } else {
            assert_error(response, StatusCode::CONFLICT, "sold_out").await;
        }
    }
    assert_eq!(winners, CAPACITY);
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.available), (CAPACITY, 0));
    for id in &old {
        assert_eq!(app.reservation(id).await.status, "expired", "{id}");
    }
}

/// Late payments race for the room left after their holds expired: exactly as many
/// confirm as there is room, the rest stay expired.
#[actix_web::test]
async fn concurrent_late_payments_never_oversell() {
    let app = spawn_app_with(AppOptions::capacity(4).hold_ttl_secs(60)).await;
    for round in 0..5 {
        let start = app.window(1 + round);
        let mut late = Vec::new();
        for _ in 0..4 {
            late.push(created(app.reserve_in(VENUE, start, 1).await).await.id);
        }
        app.advance(chrono::Duration::seconds(61));
        // A newcomer takes two of the four slots the expired holds freed.
        created(app.reserve_in(VENUE, start, 2).await).await;
        let app = &app;
        let outcomes =
            all(late.iter().map(|id| async move { crate::helpers::dev_result(&app.dev_pay(id).await, id) })).await;
        let paid = outcomes.iter().filter(|o| *o == "paid").count();
        assert_eq!(paid, 2, "round {round}: {outcomes:?}");
        assert!(outcomes.iter().all(|o| o == "paid" || o == "sold_out"), "round {round}: {outcomes:?}");
        for (id, outcome) in late.iter().zip(&outcomes) {
            let expected = if outcome == "paid" { "confirmed" } else { "expired" };
            assert_eq!(app.reservation(id).await.status, expected, "round {round}: {id}");
        }
        let window = app.window_counts(VENUE, start).await;
        assert_eq!((window.held, window.confirmed, window.available), (2, 2, 0), "round {round}");
    }
}
