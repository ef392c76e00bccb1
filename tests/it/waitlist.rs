//! The waitlist over HTTP with the real server (issue 13): customers queue on a
//! sold-out window (`202`, `waitlisted`, their position), slots that free up go to the
//! queue in order in the decision that frees them (cancel, hold expiry, an offer that
//! lapses), an offer is a hold paid on the dev page, leaving the queue and its closing at
//! the window's end; and the bad input around it. Holds expire on the manual clock: the
//! actors' idle tick (1 s here) writes what came due, so nothing sleeps.

use chrono::Duration;
use qskip::domain::WindowEvent;
use qskip::store::Record;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const OFFER_SECS: u32 = 300;
const HOLD_TTL_SECS: u32 = 600;

/// An app whose one venue (an id of its own: metrics are global to the test process)
/// has windows of 2 slots.
async fn waitlist_app() -> (TestApp, String) {
    let venue = format!("queue-{}", random_u64() % 1_000_000);
    let options = AppOptions::with_venues(vec![VenueSpec::new(&venue, 8)])
        .hold_ttl_secs(HOLD_TTL_SECS)
        .waitlist_offer_secs(OFFER_SECS)
        .actor_idle_secs(1);
    (spawn_app_with(options).await, venue)
}

/// `POST` a reservation of one slot in `start` that queues when sold out; the answer's
/// status and body.
async fn queue(
    app: &TestApp,
    venue: &str,
    start: chrono::DateTime<chrono::Utc>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let body = json!({ "quantity": 1, "window_start": rfc3339(start), "waitlist": true });
    let response = app.reserve_at(venue, &body, key).await;
    let status = response.status();
    (status, response.json().await.expect("a reservation answer is JSON"))
}

async fn show(app: &TestApp, id: &str) -> Value {
    let response = app.get_reservation(id).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {id}");
    response.json().await.expect("a reservation is JSON")
}

/// Waits until `id` has been offered its slots (an actor's tick may write it).
async fn wait_offered(app: &TestApp, id: &str) -> Value {
    eventually(&format!("{id} to be offered"), || async {
        let r = show(app, id).await;
        if r["status"] == "held" && r["offered_at"].is_string() { Ok(r) } else { Err(r) }
    })
    .await
}

/// Every reservation offered its slots, in log order.
fn offers_in_log(app: &TestApp) -> Vec<String> {
    let records = app.services.log().iter().map(|entry| entry.expect("every record decodes"));
    records
        .filter_map(|(_, _, record)| match record {
            Record::Window(_, WindowEvent::WaitlistOffered { reservation_id, .. }) => Some(reservation_id.to_string()),
            _ => None,
        })
        .collect()
}

/// Every reservation whose queue closed with the window, in log order.
fn closed_in_log(app: &TestApp) -> Vec<String> {
    let records = app.services.log().iter().map(|entry| entry.expect("every record decodes"));
    records
        .filter_map(|(_, _, record)| match record {
            Record::Window(_, WindowEvent::WaitlistExpired { reservation_id, .. }) => Some(reservation_id.to_string()),
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn twenty_customers_queue_and_are_offered_in_order_once_each() {
    let (app, venue) = waitlist_app().await;
    let v = venue.as_str();
    let start = app.window(2);
    let before = crate::metrics::scrape(&app).await;
    let a = created(app.reserve_in(v, start, 1).await).await;
    let b = created(app.reserve_in(v, start, 1).await).await;

    // Sold out: without the flag a 409 that says the window keeps a waitlist.
    let error = assert_error(app.reserve_in(v, start, 1).await, StatusCode::CONFLICT, "sold_out").await;
    assert_eq!(error["waitlist"], true, "{error}");
    assert_eq!(error["available"], 0, "{error}");

    let mut queued = Vec::new();
    for n in 1..=20u32 {
        let (status, r) = queue(&app, v, start, None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "customer {n}: {r}");
        assert_eq!(r["status"], "waitlisted", "{r}");
        assert_eq!(r["position"], n, "{r}");
        assert_eq!(r["checkout_url"], "", "nothing to pay while queued: {r}");
        assert!(r.get("offered_at").is_none(), "{r}");
        queued.push(r["id"].as_str().expect("an id").to_owned());
    }
    let counts = app.window_counts(v, start).await;
    assert_eq!((counts.held, counts.available, counts.waitlisted), (2, 0, 20), "{counts:?}");

    // A cancels: the same decision offers the slot to the head of the queue.
    assert_eq!(app.cancel(&a.id).await.status(), StatusCode::OK);
    let offer = show(&app, &queued[0]).await;
    assert_eq!(offer["status"], "held", "{offer}");
    let offered_at: chrono::DateTime<chrono::Utc> = serde_json::from_value(offer["offered_at"].clone()).unwrap();
    let expires_at: chrono::DateTime<chrono::Utc> = serde_json::from_value(offer["expires_at"].clone()).unwrap();
    assert_eq!((offered_at, expires_at), (app.now(), app.now() + Duration::seconds(OFFER_SECS.into())));
    assert!(offer["checkout_url"].as_str().unwrap().ends_with(&format!("/dev/checkout/{}", queued[0])), "{offer}");
    assert_eq!(show(&app, &queued[1]).await["position"], 1, "everyone moved up");
    // The offer is paid like any hold.
    assert_eq!(dev_result(&app.dev_pay(&queued[0]).await, &queued[0]), "paid");
    assert_eq!(show(&app, &queued[0]).await["status"], "confirmed");

    // B's hold expires: its slot goes to the next in line.
    app.advance(Duration::seconds(HOLD_TTL_SECS.into()));
    wait_offered(&app, &queued[1]).await;
    assert_eq!(show(&app, &b.id).await["status"], "expired");
    assert_eq!(show(&app, &queued[2]).await["status"], "waitlisted");

    // The second offer lapses unpaid: it expires and passes to the third.
    app.advance(Duration::seconds(OFFER_SECS.into()));
    wait_offered(&app, &queued[2]).await;
    assert_eq!(show(&app, &queued[1]).await["status"], "expired");

    // The fifth leaves the queue; the third gives its offer back: the fourth is next,
    // and after it the sixth (the fifth is gone).
    let left = app.cancel(&queued[4]).await;
    assert_eq!(left.status(), StatusCode::OK);
    assert_eq!(left.json::<Value>().await.unwrap()["status"], "cancelled");
    assert_eq!(app.cancel(&queued[2]).await.status(), StatusCode::OK);
    wait_offered(&app, &queued[3]).await;
    assert_eq!(show(&app, &queued[5]).await["position"], 1);
    app.advance(Duration::seconds(OFFER_SECS.into()));
    wait_offered(&app, &queued[5]).await;

    let expected: Vec<String> = [0, 1, 2, 3, 5].iter().map(|&n| queued[n].clone()).collect();
    assert_eq!(offers_in_log(&app), expected, "offers in queue order, nobody twice");

    // The window ends: whoever still queues expires, and nobody is offered any more.
    // (A read shows them expired at once; the log has it once an actor's tick wrote it.)
    app.advance(start + window_len() - app.now());
    eventually("the queue to close in the log", || async {
        let closed = closed_in_log(&app);
        if closed == queued[6..] { Ok(()) } else { Err(closed) }
    })
    .await;
    assert_eq!(show(&app, &queued[6]).await["status"], "expired");
    assert_eq!(app.window_counts(v, start).await.waitlisted, 0);
    assert_eq!(offers_in_log(&app), expected, "no offer after the window ended");

    let after = crate::metrics::scrape(&app).await;
    let moved = |series: &str| {
        let series = series.replace("VENUE", v);
        crate::metrics::value(&after, &series) - crate::metrics::value(&before, &series)
    };
    assert_eq!(moved("qskip_waitlist_joined_total{venue=\"VENUE\"}"), 20.0);
    assert_eq!(moved("qskip_waitlist_offers_total{venue=\"VENUE\",outcome=\"made\"}"), 5.0);
    assert_eq!(moved("qskip_waitlist_offers_total{venue=\"VENUE\",outcome=\"taken\"}"), 1.0);
    // The second, the fourth and the sixth lapsed; the third was given back.
    assert_eq!(moved("qskip_waitlist_offers_total{venue=\"VENUE\",outcome=\"expired\"}"), 3.0);
    assert_eq!(moved("qskip_waitlist_slots{venue=\"VENUE\"}"), 0.0, "nothing queued any more");
}

#[actix_web::test]
async fn a_keyed_request_to_queue_gets_its_first_answer_again() {
    let (app, venue) = waitlist_app().await;
    let v = venue.as_str();
    let start = app.window(1);
    created(app.reserve_in(v, start, 2).await).await;
    let (status, first) = queue(&app, v, start, Some("queue-key-1")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, again) = queue(&app, v, start, Some("queue-key-1")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(app.window_counts(v, start).await.waitlisted, 1, "queued once");
    // The same key without the flag is another request.
    let other = json!({ "quantity": 1, "window_start": rfc3339(start) });
    assert_error(
        app.reserve_at(v, &other, Some("queue-key-1")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
}

#[actix_web::test]
async fn with_room_the_flag_places_an_ordinary_hold_and_bad_flags_are_refused() {
    let (app, venue) = waitlist_app().await;
    let v = venue.as_str();
    let start = app.window(1);
    let (status, r) = queue(&app, v, start, None).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "held");
    assert!(r.get("position").is_none() && r.get("offered_at").is_none(), "{r}");

    for bad in [json!("yes"), json!(1), json!([true]), json!({"on": true})] {
        let body = json!({ "quantity": 1, "window_start": rfc3339(start), "waitlist": bad });
        let error = assert_error(app.reserve_at(v, &body, None).await, StatusCode::BAD_REQUEST, "invalid_body").await;
        assert!(error["message"].as_str().unwrap().contains("waitlist"), "{error}");
    }
    assert_eq!(app.window_counts(v, start).await.held, 1, "nothing changed");

    // More than the window holds can never be served: no queue for it.
    let body = json!({ "quantity": 3, "window_start": rfc3339(start), "waitlist": true });
    let error = assert_error(app.reserve_at(v, &body, None).await, StatusCode::CONFLICT, "sold_out").await;
    assert!(error.get("waitlist").is_none(), "{error}");
}

/// The real binary, snapshotting every 5 records: a queue and an offer survive SIGKILL
/// (from a V3 snapshot and the log's tail) in order, serving goes on from where it was,
/// and `qskip replay` agrees with the service's last snapshot.
#[actix_web::test]
async fn a_queue_survives_a_kill_and_a_restart_in_order() {
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 8)]);
    config.snapshot_every_events = Some(5);
    let home = BinaryHome::with_config(config);
    let start = wall_window(2);
    let mut binary = home.start();
    let a = created(binary.reserve_in(VENUE, start, 2).await).await;
    let mut queued = Vec::new();
    for _ in 0..6 {
        let body = json!({ "quantity": 1, "window_start": rfc3339(start), "waitlist": true });
        let response = binary.reserve_at(VENUE, &body, None).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        queued.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    // A gives its two slots back: the first two in line are offered them.
    assert_eq!(binary.cancel(&a.id).await.status(), StatusCode::OK);
    let offered = binary.get_reservation(&queued[1]).await.json::<Value>().await.unwrap();
    assert_eq!(offered["status"], "held", "{offered}");
    assert_eq!(binary.cancel(&queued[3]).await.status(), StatusCode::OK, "the fourth leaves the queue");
    eventually("a snapshot with the queue", || async {
        let listed = qskip::store::snapshot::SnapshotDir::of_data_dir(&home.data_dir).list().expect("list");
        if listed.is_empty() { Err(listed.len()) } else { Ok(()) }
    })
    .await;
    binary.kill_9();

    let mut binary = home.start();
    let after = binary.get_reservation(&queued[1]).await.json::<Value>().await.unwrap();
    assert_eq!((&after["status"], &after["offered_at"]), (&offered["status"], &offered["offered_at"]), "{after}");
    for (n, position) in [(2, 1), (4, 2), (5, 3)] {
        let r = binary.get_reservation(&queued[n]).await.json::<Value>().await.unwrap();
        assert_eq!((r["status"].as_str(), r["position"].as_u64()), (Some("waitlisted"), Some(position)), "{r}");
    }
    // Serving goes on in order: the first offer given back goes to the third in line.
    assert_eq!(binary.cancel(&queued[0]).await.status(), StatusCode::OK);
    let next = binary.get_reservation(&queued[2]).await.json::<Value>().await.unwrap();
    assert_eq!(next["status"], "held", "{next}");
    assert!(binary.terminate().success());

    let (code, stdout, stderr) = crate::snapshot_restart::run_replay(&home.data_dir);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["snapshot"]["matches"], true, "{report}");
    assert_eq!(report["violations"], json!([]), "{report}");
}

/// Answers a session create with a session named after the reservation it is for.
struct SessionPerReservation;

impl wiremock::Respond for SessionPerReservation {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&request.body).expect("a form body");
        let reservation = pairs.into_iter().find(|(k, _)| k == "client_reference_id").expect("sent").1;
        let id = format!("cs_{}", reservation.replace('-', ""));
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "id": id, "object": "checkout.session", "url": format!("https://checkout.stripe.test/c/pay/{id}"),
            "expires_at": 1_900_000_000, "status": "open", "payment_status": "unpaid", "payment_intent": null,
            "mode": "payment", "livemode": false
        }))
    }
}

/// With Stripe: a queued customer has no page; the offer's page opens when the offer is
/// first read (once), and Stripe's payment confirms the offer like any hold.
#[actix_web::test]
async fn with_stripe_an_offer_gets_its_checkout_page_and_the_webhook_confirms_it() {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(SessionPerReservation)
        .mount(&server)
        .await;
    let payments = crate::stripe_fake::stripe_checkout_config(&server.uri());
    let app = spawn_app_with(AppOptions::capacity(1).payments(payments)).await;
    let sessions = || async {
        let all = server.received_requests().await.expect("recording is on");
        all.iter().filter(|r| r.url.path() == "/v1/checkout/sessions").count()
    };
    let start = app.window(1);
    let a = created(app.reserve_in(VENUE, start, 1).await).await;
    let (status, b) = queue(&app, VENUE, start, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["checkout_url"], "", "{b}");
    let b_id = b["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions().await, 1, "only A's page: nothing to pay while queued");

    assert_eq!(app.cancel(&a.id).await.status(), StatusCode::OK);
    let offer = show(&app, &b_id).await;
    assert_eq!(offer["status"], "held", "{offer}");
    let page = format!("https://checkout.stripe.test/c/pay/cs_{}", b_id.replace('-', ""));
    assert_eq!(offer["checkout_url"], page, "{offer}");
    assert_eq!(show(&app, &b_id).await["checkout_url"], page);
    assert_eq!(sessions().await, 2, "the offer's page opened once");

    let paid = crate::stripe_fake::event("evt_offer", "checkout.session.completed", &b_id, "pi_offer", "paid", 500);
    let answer = crate::stripe_fake::post_signed(&app.api, &paid, app.now().timestamp()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.json::<Value>().await.unwrap()["outcome"], "confirmed");
    assert_eq!(show(&app, &b_id).await["status"], "confirmed");
}
