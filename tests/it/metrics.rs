//! `/metrics` parses as Prometheus text and its counters move as a scripted scenario runs
//! (reserve, sell out, pay, expire, late payment owed a refund, cancel).
//!
//! The recorder is global to the test process, so the scenario uses a venue id of its
//! own and compares its series before and after.

use std::collections::BTreeMap;

use chrono::Duration;

use crate::helpers::{Api, AppOptions, VenueSpec, created, eventually, random_u64, spawn_app_with};

/// `name{labels}` -> value, for every sample line; panics on a line that is not
/// Prometheus text format.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let kind = comment.split_whitespace().next().unwrap_or("");
            assert!(matches!(kind, "HELP" | "TYPE"), "bad comment line: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "unclosed labels: {line}");
        }
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        samples.insert(series.to_owned(), value);
    }
    samples
}

/// Every sample of `/metrics` of the service behind `app` (in-process or the binary).
pub async fn scrape(app: &Api) -> BTreeMap<String, f64> {
    let response = app.client.get(app.url("/metrics")).send().await.expect("metrics answered");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    parse(&response.text().await.expect("text"))
}

pub fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[actix_web::test]
async fn counters_follow_a_scripted_scenario() {
    let venue_id = format!("metrics-{}", random_u64() % 1_000_000);
    let app = spawn_app_with(AppOptions::with_venues(vec![VenueSpec::new(&venue_id, 4)])).await;
    let v = venue_id.as_str();
    let before = scrape(&app).await;
    let (w1, w2) = (app.window(1), app.window(2));

    let a = created(app.reserve_in(v, w1, 1).await).await;
    let held = format!("qskip_held_slots{{venue=\"{v}\"}}");
    assert_eq!(value(&scrape(&app).await, &held), 1.0, "one customer in checkout");
    assert_eq!(app.reserve_in(v, w1, 1).await.status(), 409, "sold out");
    assert_eq!(app.dev_pay(&a.id).await.status(), 303);
    let c = created(app.reserve_in(v, w2, 1).await).await;
    app.advance(Duration::minutes(31));
    let d = created(app.reserve_in(v, w2, 1).await).await; // expires c first
    let late =
        qskip::domain::Payment { intent: "pi_late".into(), amount_minor: Some(500), currency: Some("eur".into()) };
    let view = app.services.payments.record_payment(c.id.parse().unwrap(), late).await.expect("payment recorded");
    assert_eq!(view.status.as_str(), "refund_owed");
    assert_eq!(app.cancel(&d.id).await.status(), 200);

    let after = scrape(&app).await;
    let delta = |series: &str| value(&after, series) - value(&before, series);
    let labels = format!("{{venue=\"{v}\"}}");
    assert_eq!(delta(&format!("qskip_holds_placed_total{labels}")), 3.0);
    assert_eq!(delta(&format!("qskip_holds_refused_total{{venue=\"{v}\",reason=\"sold_out\"}}")), 1.0);
    assert_eq!(delta(&format!("qskip_confirmations_total{{venue=\"{v}\",timing=\"on_time\"}}")), 1.0);
    assert_eq!(delta(&format!("qskip_holds_expired_total{labels}")), 1.0);
    assert_eq!(delta(&format!("qskip_holds_cancelled_total{labels}")), 1.0);
    assert_eq!(delta(&format!("qskip_refunds_owed_total{{venue=\"{v}\",reason=\"sold_out\"}}")), 1.0);
    assert_eq!(delta(&format!("qskip_hold_to_payment_seconds_count{labels}")), 1.0);
    assert_eq!(delta(&format!("qskip_reserve_attempts_total{labels}")), 4.0, "two in w1, two in w2");
    assert_eq!(value(&after, &held), 0.0, "paid, expired and cancelled: nobody in checkout");
    assert!(delta("qskip_journal_batch_records_count") >= 1.0);
    assert!(delta("qskip_journal_flush_seconds_count") >= 1.0);
    assert!(value(&after, "qskip_window_actors_live") >= 2.0);
}

#[actix_web::test]
async fn every_response_carries_its_own_request_id() {
    let app = spawn_app_with(AppOptions::default()).await;
    let ok = app.api.client.get(app.url("/v1/venues")).send().await.unwrap();
    let missing = app.api.client.get(app.url("/v1/venues/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let id = |r: &reqwest::Response| {
        r.headers().get("x-request-id").expect("x-request-id is set").to_str().unwrap().to_owned()
    };
    let (a, b) = (id(&ok), id(&missing));
    assert_ne!(a, b);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
}

/// A second payment for a confirmed reservation is owed back; Stripe refuses the refund
/// three times (the client's own tries of one attempt), then accepts. The failed attempts, the pending gauge (1, then 0) and the
/// webhook outcomes show it.
#[actix_web::test]
async fn refund_failures_pending_refunds_and_webhook_outcomes_are_counted() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::stripe_fake::{event, mount_empty_refund_list, post_signed, refund_object, stripe_config};

    let server = MockServer::start().await;
    mount_empty_refund_list(&server, "pi_twice").await;
    let refused = ResponseTemplate::new(500).set_body_json(serde_json::json!({ "error": { "type": "api_error" } }));
    Mock::given(method("POST")).and(path("/v1/refunds")).respond_with(refused).up_to_n_times(3).mount(&server).await;
    let accepted = ResponseTemplate::new(200).set_body_json(refund_object("re_twice", "pi_twice"));
    Mock::given(method("POST")).and(path("/v1/refunds")).respond_with(accepted).mount(&server).await;
    let venue_id = format!("refunds-{}", random_u64() % 1_000_000);
    let options = AppOptions::with_venues(vec![VenueSpec::new(&venue_id, 8)]).payments(stripe_config(&server.uri()));
    let app = spawn_app_with(options).await;
    let (v, outcome) = (venue_id.as_str(), |o: &str| format!("qskip_webhook_events_total{{outcome=\"{o}\"}}"));
    let before = scrape(&app).await;

    let r = created(app.reserve_in(v, app.window(1), 1).await).await;
    let now = app.now().timestamp();
    for (id, intent) in [("evt_first", "pi_first"), ("evt_twice", "pi_twice")] {
        let body = event(id, "checkout.session.completed", &r.id, intent, "paid", 500);
        assert_eq!(post_signed(&app.api, &body, now).await.status(), 200);
    }
    let stranger = event("evt_stranger", "checkout.session.completed", "not-a-reservation", "pi_x", "paid", 500);
    assert_eq!(post_signed(&app.api, &stranger, now).await.status(), 200);
    let pending = format!("qskip_refunds_pending{{venue=\"{v}\"}}");
    let saw_pending = std::cell::Cell::new(false);
    eventually("the second payment to be refunded", || async {
        let body: serde_json::Value = app.get_reservation(&r.id).await.json().await.unwrap();
        saw_pending.set(saw_pending.get() || value(&scrape(&app).await, &pending) == 1.0);
        if body["refunds"][0]["refund_id"] == "re_twice" { Ok(()) } else { Err(body) }
    })
    .await;
    assert!(saw_pending.get(), "the owed refund was never shown as pending");
    // The worker publishes the gauge at the start of each pass: wait for the next one.
    eventually("the pending-refunds gauge to fall back to 0", || async {
        let pending = value(&scrape(&app).await, &pending);
        if pending == 0.0 { Ok(()) } else { Err(pending) }
    })
    .await;
    let after = scrape(&app).await;
    let failed = format!("qskip_refund_attempts_failed_total{{venue=\"{v}\"}}");
    assert!(value(&after, &failed) >= 1.0, "failed refund attempts not counted");
    // Other tests deliver webhooks too (the recorder is global): at least ours moved.
    assert!(value(&after, &outcome("confirmed")) >= value(&before, &outcome("confirmed")) + 2.0);
    assert!(value(&after, &outcome("unknown_reservation")) > value(&before, &outcome("unknown_reservation")));
}
