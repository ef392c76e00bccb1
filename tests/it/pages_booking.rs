//! The booking and status pages in headless Chromium (see `browser`): a customer
//! reserves, pays on the dev checkout page and sees `confirmed`; two customers race
//! for the last slot and exactly one gets it while the other sees it sold out; the
//! status page follows a hold to `expired` without a reload.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use crate::browser::{Browser, Driver, Size, bounded};
use crate::helpers::{AppOptions, TestApp, VENUE, spawn_app_with};

/// The radio of the window starting at `start` (its id is `w-<epoch millis>`).
fn chip(start: DateTime<Utc>) -> String {
    format!("w-{}", start.timestamp_millis())
}

/// Opens the booking page and picks the window starting at `start`.
async fn pick_window(browser: &Browser, app: &TestApp, start: DateTime<Utc>) {
    browser.goto(&app.url("/")).await.expect("the booking page loads");
    let id = chip(start);
    browser
        .until("the window is offered", |c| {
            let id = id.clone();
            async move { c.find(fantoccini::Locator::Id(&id)).await.ok() }
        })
        .await;
    browser.click(&format!("label[for={id}]")).await;
    browser.until_text("#selection", |t| t.contains("left")).await;
}

#[actix_web::test]
async fn a_customer_reserves_pays_on_the_dev_checkout_and_sees_confirmed() {
    bounded(async {
        let app = spawn_app_with(AppOptions::capacity(4).system_clock()).await;
        let driver = Driver::start();
        let browser = driver.browser(Size::Phone).await;
        let start = app.window(1);
        pick_window(&browser, &app, start).await;
        assert_eq!(browser.text_of("#selection").await.as_deref().map(|t| t.contains("4 of 4 left")), Some(true));
        browser.screenshot("booking-page").await;

        browser.click("#submit").await;
        browser
            .until("the dev checkout page", |c| async move {
                c.current_url().await.ok().filter(|u| u.path().starts_with("/dev/checkout/"))
            })
            .await;
        browser.screenshot("dev-checkout").await;
        let id = browser.path().await.trim_start_matches("/dev/checkout/").to_owned();
        assert_eq!(app.reservation(&id).await.status, "held");

        browser.click("form[action$='/pay'] button").await;
        let status = browser.until_text("#status", |t| t == "Confirmed").await;
        assert_eq!(status, "Confirmed");
        assert_eq!(browser.path().await, format!("/reservations/{id}"));
        assert_eq!(browser.text_of("#notice").await.as_deref(), Some("Payment received."));
        browser.screenshot("status-confirmed").await;
        assert_eq!(app.reservation(&id).await.status, "confirmed");
        browser.client.clone().close().await.expect("the session closes");
    })
    .await;
}

#[actix_web::test]
async fn two_customers_race_for_the_last_slot_and_exactly_one_gets_it() {
    bounded(async {
        let app = spawn_app_with(AppOptions::capacity(1).system_clock()).await;
        let driver = Driver::start();
        let (ana, ben) = (driver.browser(Size::Phone).await, driver.browser(Size::Phone).await);
        let start = app.window(1);
        pick_window(&ana, &app, start).await;
        pick_window(&ben, &app, start).await;

        let (a, b) =
            tokio::join!(ana.find(fantoccini::Locator::Css("#submit")), ben.find(fantoccini::Locator::Css("#submit")));
        let (a, b) = (a.expect("a Reserve button"), b.expect("a Reserve button"));
        let _ = tokio::join!(a.click(), b.click());

        let mut outcomes = Vec::new();
        for browser in [&ana, &ben] {
            let outcome = browser
                .until("checkout or sold out", |c| async move {
                    let url = c.current_url().await.ok()?;
                    if url.path().starts_with("/dev/checkout/") {
                        return Some("checkout");
                    }
                    let error = crate::browser::text_of(&c, "#error").await.unwrap_or_default();
                    let selection = crate::browser::text_of(&c, "#selection").await.unwrap_or_default();
                    (error.contains("Sold out") || selection.contains("sold out")).then_some("sold out")
                })
                .await;
            outcomes.push(outcome);
        }
        ana.screenshot("race-ana").await;
        ben.screenshot("race-ben").await;
        outcomes.sort_unstable();
        assert_eq!(outcomes, ["checkout", "sold out"], "exactly one customer gets the slot");
        let counts = app.window_counts(VENUE, start).await;
        assert_eq!((counts.held, counts.available), (1, 0), "{counts:?}");
        let over = app.reserve_in(VENUE, start, 1).await;
        assert_eq!(over.status(), StatusCode::CONFLICT);
        for browser in [ana, ben] {
            browser.client.clone().close().await.expect("the session closes");
        }
    })
    .await;
}

#[actix_web::test]
async fn the_status_page_follows_a_hold_to_expired_without_a_reload() {
    bounded(async {
        // The app's own clock: the hold stays live however slowly the browser starts.
        let app = spawn_app_with(AppOptions::capacity(2).hold_ttl_secs(600).actor_idle_secs(1)).await;
        let driver = Driver::start();
        let browser = driver.browser(Size::Phone).await;
        let hold = crate::helpers::created(app.reserve_in(VENUE, app.window(1), 1).await).await;
        browser.goto(&app.url(&format!("/reservations/{}", hold.id))).await.expect("the status page loads");
        browser.until_text("#status", |t| t.starts_with("Held")).await;
        assert!(browser.find(fantoccini::Locator::Css("#actions:not([hidden]) #pay")).await.is_ok(), "Pay is offered");
        // The hold's time runs out; the window's next idle check logs the expiry (no
        // request touches it) and the live stream tells the page.
        app.advance(chrono::Duration::seconds(601));
        browser.until_text("#status", |t| t == "Expired").await;
        assert!(browser.find(fantoccini::Locator::Css("#actions[hidden]")).await.is_ok(), "nothing to pay any more");
        assert_eq!(app.reservation(&hold.id).await.status, "expired");
        browser.client.clone().close().await.expect("the session closes");
    })
    .await;
}
