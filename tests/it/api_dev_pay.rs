//! The built-in dev payment provider: the checkout page, Pay and Cancel through
//! post/redirect/get, double payment, and late payment after the hold expired.

use chrono::Duration;
use reqwest::StatusCode;

use crate::helpers::{AppOptions, VENUE, assert_error, created, dev_result, spawn_app_with};

#[actix_web::test]
async fn reserve_then_pay_on_the_dev_page_confirms() {
    let app = spawn_app_with(AppOptions::capacity(4)).await;
    let start = app.window(1);
    let reservation = created(app.reserve_in(VENUE, start, 2).await).await;
    assert!(reservation.checkout_url.starts_with(&app.address), "{}", reservation.checkout_url);
    let id = reservation.id.as_str();

    let page = app.client.get(&reservation.checkout_url).send().await.expect("the checkout page answers");
    assert_eq!(page.status(), StatusCode::OK);
    let content_type = page.headers()[reqwest::header::CONTENT_TYPE].to_str().expect("ASCII").to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = page.text().await.expect("HTML");
    assert!(html.contains(&format!("action=\"/dev/checkout/{id}/pay\"")), "{html}");
    assert!(html.contains(&format!("action=\"/dev/checkout/{id}/cancel\"")), "{html}");
    assert!(html.contains("Pay 10.00 EUR"), "price x quantity is shown: {html}");
    assert!(html.contains(">Cancel<"), "{html}");
    assert!(html.contains("<dd id=\"status\">held</dd>"), "{html}");

    app.advance(Duration::seconds(7));
    let paid_at = app.now();
    let response = app.dev_pay(id).await;
    assert_eq!(dev_result(&response, id), "paid");
    let confirmed = app.reservation(id).await;
    assert_eq!(confirmed.status, "confirmed");
    assert_eq!(confirmed.confirmed_at, Some(paid_at));
    assert_eq!(confirmed.expires_at, reservation.expires_at, "paying does not move the hold's expiry");
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed, window.available), (0, 2, 2));

    // The page after the redirect shows the outcome and offers no more buttons.
    let html = app.dev_page(&format!("{id}?result=paid")).await.text().await.expect("HTML");
    assert!(html.contains("Result: <strong>paid</strong>"), "{html}");
    assert!(html.contains("<dd id=\"status\">confirmed</dd>"), "{html}");
    assert!(!html.contains("/pay\""), "no Pay button once confirmed: {html}");

    // A confirmed reservation outlives its hold time.
    app.advance(Duration::hours(1));
    assert_eq!(app.reservation(id).await.status, "confirmed");
}

#[actix_web::test]
async fn paying_twice_is_a_no_op() {
    let app = spawn_app_with(AppOptions::capacity(4)).await;
    let start = app.window(1);
    let reservation = created(app.reserve_in(VENUE, start, 1).await).await;
    let id = reservation.id.as_str();
    assert_eq!(dev_result(&app.dev_pay(id).await, id), "paid");
    let first = app.reservation(id).await;
    let counts = app.window_counts(VENUE, start).await;

    app.advance(Duration::seconds(5));
    assert_eq!(dev_result(&app.dev_pay(id).await, id), "paid", "the same payment again is accepted");
    let second = app.reservation(id).await;
    assert_eq!(second.status, "confirmed");
    assert_eq!(second.confirmed_at, first.confirmed_at, "the second payment changed nothing");
    assert_eq!(app.window_counts(VENUE, start).await, counts, "confirmed counted once");
    assert_eq!((counts.held, counts.confirmed), (0, 1));

    // Cancelling a paid reservation is refused and changes nothing.
    assert_eq!(dev_result(&app.dev_cancel(id).await, id), "already_confirmed");
    assert_error(app.cancel(id).await, StatusCode::CONFLICT, "already_confirmed").await;
    assert_eq!(app.reservation(id).await.status, "confirmed");
}

#[actix_web::test]
async fn a_late_payment_confirms_when_there_is_room() {
    let app = spawn_app_with(AppOptions::capacity(2).hold_ttl_secs(60)).await;
    let start = app.window(1);
    let reservation = created(app.reserve_in(VENUE, start, 1).await).await;
    let id = reservation.id.as_str();
    app.advance(Duration::seconds(61));
    assert_eq!(app.reservation(id).await.status, "expired");
    // The expired page offers no Pay button, but a payment may still arrive.
    let html = app.dev_page(id).await.text().await.expect("HTML");
    assert!(html.contains("<dd id=\"status\">expired</dd>") && !html.contains("/pay\""), "{html}");

    assert_eq!(dev_result(&app.dev_pay(id).await, id), "paid");
    let late = app.reservation(id).await;
    assert_eq!(late.status, "confirmed");
    assert_eq!(late.confirmed_at, Some(app.now()));
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed, window.available), (0, 1, 1));
}

#[actix_web::test]
async fn a_late_payment_into_a_full_window_is_refused() {
    let app = spawn_app_with(AppOptions::capacity(1).hold_ttl_secs(60)).await;
    let start = app.window(1);
    let late = created(app.reserve_in(VENUE, start, 1).await).await;
    app.advance(Duration::seconds(61));
    let newcomer = created(app.reserve_in(VENUE, start, 1).await).await;

    assert_eq!(dev_result(&app.dev_pay(&late.id).await, &late.id), "sold_out");
    let after = app.reservation(&late.id).await;
    assert_eq!((after.status.as_str(), after.confirmed_at), ("expired", None));
    assert_eq!(app.reservation(&newcomer.id).await.status, "held");
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed, window.available), (1, 0, 0), "never over capacity");

    // Once the window is over, a payment cannot confirm at all.
    app.advance(Duration::minutes(30));
    assert_eq!(dev_result(&app.dev_pay(&late.id).await, &late.id), "window_ended");
    assert_eq!(app.reservation(&late.id).await.status, "expired");
}

#[actix_web::test]
async fn cancel_on_the_dev_page_releases_the_hold() {
    let app = spawn_app_with(AppOptions::capacity(1)).await;
    let start = app.window(1);
    let reservation = created(app.reserve_in(VENUE, start, 1).await).await;
    let id = reservation.id.as_str();
    assert_eq!(dev_result(&app.dev_cancel(id).await, id), "cancelled");
    let cancelled = app.reservation(id).await;
    assert_eq!((cancelled.status.as_str(), cancelled.confirmed_at), ("cancelled", None));
    assert_eq!(app.window_counts(VENUE, start).await.available, 1);
    assert_eq!(dev_result(&app.dev_cancel(id).await, id), "cancelled", "cancelling again is a no-op");

    // Someone else takes the slot; a payment for the released hold then finds no room.
    created(app.reserve_in(VENUE, start, 1).await).await;
    assert_eq!(dev_result(&app.dev_pay(id).await, id), "sold_out");
    assert_eq!(app.reservation(id).await.status, "cancelled");
    let window = app.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed), (1, 0));
}
