//! The admin dashboard in headless Chromium (see `browser`): after signing in with the
//! token it shows a new hold within one second without a reload, then a sold-out
//! refusal, and a window overcommitted by a capacity cut, highlighted (and the new
//! capacity of windows nobody touched).

use std::time::Duration;

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{Driver, Size, bounded};
use crate::helpers::{AppOptions, VENUE, created, eventually_within, spawn_app_with};

const TOKEN: &str = "dashboard-test-token-0123456789";

/// The deadline for a new hold to appear on the dashboard.
const WITHIN: Duration = Duration::from_secs(1);

#[actix_web::test]
async fn the_dashboard_shows_a_new_hold_within_one_second_and_sold_out_and_overcommitted_windows() {
    bounded(async {
        let app = spawn_app_with(AppOptions::capacity(2).hold_ttl_secs(600).system_clock().admin_token(TOKEN)).await;
        let driver = Driver::start();
        let browser = driver.browser(Size::Desktop).await;
        let start = app.window(1);
        let row = format!("#row-{}", start.timestamp_millis());

        browser.goto(&app.url("/admin")).await.expect("the dashboard loads");
        let field = browser.wait().at_most(crate::browser::WAIT).for_element(Locator::Id("token")).await.expect("a token field");
        field.send_keys("wrong").await.expect("typing");
        browser.click("#login button[type=submit]").await;
        browser.until_text("#login-error", |t| t.contains("wrong")).await;
        let field = browser.find(Locator::Id("token")).await.expect("a token field");
        field.send_keys(TOKEN).await.expect("typing");
        browser.click("#login button[type=submit]").await;
        // The window's day, in case the next window is already tomorrow (UTC venue).
        let day = start.format("%Y-%m-%d").to_string();
        let set_day = "const d = document.getElementById('day'); if (d.value !== arguments[0]) { d.value = arguments[0]; d.dispatchEvent(new Event('change')); }";
        browser.until("the dashboard", |c| async move { c.find(Locator::Css("#dashboard:not([hidden])")).await.ok() }).await;
        browser.execute(set_day, vec![json!(day)]).await.expect("the day is set");
        browser.until_text(&format!("{row} .available"), |t| t == "2").await;

        let hold = created(app.reserve_in(VENUE, start, 1).await).await;
        let item = format!("#holds li[data-reservation='{}']", hold.id);
        eventually_within("the new hold on the dashboard", WITHIN, || async {
            browser.find(Locator::Css(&item)).await.map(drop).map_err(|e| e.to_string())
        })
        .await;
        assert_eq!(browser.text_of(&format!("{row} .held")).await.as_deref(), Some("1"));

        created(app.reserve_in(VENUE, start, 1).await).await;
        assert_eq!(app.reserve_in(VENUE, start, 1).await.status(), StatusCode::CONFLICT);
        browser.until_text("#activity", |t| t.contains("Sold out: 1 asked, 0 left")).await;

        // A capacity cut under two holds: the window is overcommitted, and highlighted.
        let cut = json!({"name": "Test venue bar", "timezone": "UTC", "price_minor": 500, "currency": "eur", "slots_per_hour": 4});
        let response = app.client.put(app.url(&format!("/v1/admin/venues/{VENUE}"))).bearer_auth(TOKEN).json(&cut).send().await;
        assert_eq!(response.expect("PUT venue is answered").status(), StatusCode::OK);
        browser
            .until("the overcommitted row", |c| {
                let css = format!("{row}.overcommitted");
                async move { c.find(Locator::Css(&css)).await.ok() }
            })
            .await;
        browser.until_text("#totals", |t| t.contains("overcommitted")).await;
        let capacity = format!("{row} .capacity");
        browser.until_text(&capacity, |t| t == "1").await;
        let later = format!("#row-{} .capacity", app.window(3).timestamp_millis());
        browser.until_text(&later, |t| t == "1").await;
        let scroll = "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})";
        browser.execute(scroll, vec![json!(row)]).await.expect("the row scrolls into view");
        browser.screenshot("admin-dashboard").await;
        browser.client.clone().close().await.expect("the session closes");
    })
    .await;
}
