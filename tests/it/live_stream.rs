//! `GET /v1/venues/{venue}/stream` (Server-Sent Events) against the real server: every
//! kind of change reaches a subscriber within one second, a reconnect with
//! `Last-Event-ID` resumes without a gap, and a subscriber that never reads neither
//! delays reservations nor stays registered.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::helpers::{AppOptions, TestApp, VENUE, VenueSpec, created, dev_result, rfc3339, spawn_app_with, window_len};

/// The deadline for a change to reach a subscriber.
const WITHIN: StdDuration = StdDuration::from_secs(1);

#[derive(Debug)]
struct Event {
    id: String,
    data: Value,
}

/// A minimal EventSource: reads `event: window` messages, skipping comments.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    async fn open(app: &TestApp, start: DateTime<Utc>, last_event_id: Option<&str>) -> Self {
        let url =
            app.url(&format!("/v1/venues/{VENUE}/stream?from={}&to={}", rfc3339(start), rfc3339(start + window_len())));
        let mut request = app.client.get(url).timeout(StdDuration::from_secs(600));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the stream is answered");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Self { response, buffer: String::new() }
    }

    /// The next `window` event, or `None` if none arrives within `within`.
    async fn next(&mut self, within: StdDuration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::to_owned);
                if let (Some(id), Some(data)) = (field("id: "), field("data: ")) {
                    assert_eq!(field("event: ").as_deref(), Some("window"), "{block}");
                    return Some(Event { id, data: serde_json::from_str(&data).expect("data is JSON") });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?;
            let chunk = chunk.expect("the stream reads").expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).expect("SSE is UTF-8"));
        }
    }

    /// The next event, which must come within one second and show `held`/`confirmed`.
    async fn expect(&mut self, what: &str, held: u64, confirmed: u64) -> Event {
        let event = self.next(WITHIN).await.unwrap_or_else(|| panic!("{what}: no update within {WITHIN:?}"));
        assert_eq!(
            (event.data["held"].as_u64(), event.data["confirmed"].as_u64()),
            (Some(held), Some(confirmed)),
            "{what}: {:?}",
            event.data
        );
        event
    }
}

#[actix_web::test]
async fn every_kind_of_change_reaches_a_subscriber_within_one_second() {
    // The system clock, so the hold's own expiry timer ends it in real time.
    let app = spawn_app_with(AppOptions::capacity(5).hold_ttl_secs(3).system_clock()).await;
    let window = app.window(1);
    let mut stream = Sse::open(&app, window, None).await;
    let state = stream.next(WITHIN).await.expect("the current state comes first");
    assert_eq!(state.data["start"], rfc3339(window));
    assert_eq!((state.data["capacity"].as_u64(), state.data["available"].as_u64()), (Some(5), Some(5)));

    let paid = created(app.reserve_in(VENUE, window, 2).await).await;
    let placed = stream.expect("hold", 2, 0).await;
    assert_eq!(placed.data["available"], 3);
    assert_eq!(placed.data["overcommitted"], false);
    assert_eq!(dev_result(&app.dev_pay(&paid.id).await, &paid.id), "paid");
    stream.expect("confirmation", 0, 2).await;

    let cancelled = created(app.reserve_in(VENUE, window, 1).await).await;
    stream.expect("second hold", 1, 2).await;
    assert_eq!(app.cancel(&cancelled.id).await.status(), StatusCode::OK);
    stream.expect("cancel", 0, 2).await;

    let expiring = created(app.reserve_in(VENUE, window, 3).await).await;
    stream.expect("third hold", 3, 2).await;
    let until_expiry = (expiring.expires_at - Utc::now()).to_std().unwrap_or_default();
    let expired = stream.next(until_expiry + WITHIN).await.expect("the expiry is pushed");
    assert!(Utc::now() <= expiring.expires_at + Duration::seconds(1), "expiry pushed later than 1 s after expires_at");
    assert_eq!((expired.data["held"].as_u64(), expired.data["available"].as_u64()), (Some(0), Some(3)));
    assert_eq!(app.reservation(&expiring.id).await.status, "expired");
}

#[actix_web::test]
async fn a_reconnect_with_the_last_event_id_gets_exactly_the_missed_updates() {
    let app = spawn_app_with(AppOptions::capacity(20)).await;
    let window = app.window(1);
    let mut stream = Sse::open(&app, window, None).await;
    stream.next(WITHIN).await.expect("the current state");
    created(app.reserve_in(VENUE, window, 1).await).await;
    let seen = stream.expect("first hold", 1, 0).await;
    drop(stream);

    // Missed while disconnected; another window's change is not in this stream's range.
    for _ in 0..3 {
        created(app.reserve_in(VENUE, window, 1).await).await;
    }
    created(app.reserve_in(VENUE, app.window(2), 1).await).await;

    let mut resumed = Sse::open(&app, window, Some(&seen.id)).await;
    let (epoch, seq) = seen.id.split_once('-').expect("ids are <epoch>-<seq>");
    let first_seq: u64 = seq.parse().expect("a number");
    for (n, held) in (2..=4).enumerate() {
        let event = resumed.expect("replayed update", held, 0).await;
        assert_eq!(
            event.id,
            format!("{epoch}-{}", first_seq + 1 + n as u64),
            "replay is consecutive, no snapshot first"
        );
    }
    created(app.reserve_in(VENUE, window, 1).await).await;
    resumed.expect("live again after the replay", 5, 0).await;

    // An id this process never issued (e.g. from before a restart): the current state.
    let mut fresh = Sse::open(&app, window, Some("00000000-7")).await;
    let state = fresh.next(WITHIN).await.expect("the current state");
    assert_eq!(state.data["held"], 5);
}

#[actix_web::test]
async fn a_stalled_subscriber_delays_no_reservation_and_is_dropped() {
    const RESERVATIONS: u32 = 5_000;
    const BATCH: u32 = 50;
    let venue = VenueSpec::new(VENUE, RESERVATIONS * 4);
    let app = spawn_app_with(AppOptions::with_venues(vec![venue])).await;
    let window = app.window(1);

    // A client that asks for the stream and then never reads, with a tiny receive
    // buffer so the server's writes back up quickly.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut stalled = socket.connect(([127, 0, 0, 1], app.port).into()).await.expect("connects");
    let request = format!(
        "GET /v1/venues/{VENUE}/stream?from={}&to={} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        rfc3339(window),
        rfc3339(window + window_len())
    );
    stalled.write_all(request.as_bytes()).await.expect("the request is sent");
    let venue_id = qskip::domain::VenueId::parse(VENUE).expect("a valid id");
    crate::helpers::eventually("the stalled client to be subscribed", || async {
        let subscribers = app.services.availability.live_hub().subscribers(&venue_id);
        if subscribers == 1 { Ok(()) } else { Err(subscribers) }
    })
    .await;

    // Reserve in concurrent batches until the hub has dropped the stalled subscriber
    // (the kernel's socket buffers absorb a few hundred KiB first). A window actor that
    // waited for the stalled client would answer `503 busy` after 5 s.
    let mut reserved = 0;
    while app.services.availability.live_hub().subscribers(&venue_id) > 0 {
        assert!(reserved < RESERVATIONS, "the stalled subscriber is still registered after {reserved} changes");
        let batch = crate::helpers::all((0..BATCH).map(|_| app.reserve_in(VENUE, window, 1))).await;
        for response in batch {
            assert_eq!(response.status(), StatusCode::CREATED, "every reservation succeeds");
        }
        reserved += BATCH;
    }
    let mut fresh = Sse::open(&app, window, None).await;
    let state = fresh.next(WITHIN).await.expect("the current state");
    assert_eq!(state.data["held"], reserved);
    drop(stalled);
}

#[actix_web::test]
async fn a_schedule_change_pushes_the_new_capacity_of_windows_nobody_touched() {
    let token = "live-stream-test-token-0123456789";
    let app = spawn_app_with(AppOptions::capacity(5).admin_token(token)).await;
    let (touched, untouched) = (app.window(1), app.window(2));
    created(app.reserve_in(VENUE, touched, 1).await).await;
    let mut stream = Sse::open(&app, untouched, None).await;
    assert_eq!(stream.next(WITHIN).await.expect("the current state").data["capacity"], 5);

    let body = serde_json::json!({"name": "Test venue bar", "timezone": "UTC", "price_minor": 500, "currency": "eur", "slots_per_hour": 8});
    let response =
        app.client.put(app.url(&format!("/v1/admin/venues/{VENUE}"))).bearer_auth(token).json(&body).send().await;
    assert_eq!(response.expect("PUT venue is answered").status(), StatusCode::OK);
    let changed = stream.next(WITHIN).await.expect("the new capacity is pushed within one second");
    assert_eq!(
        (changed.data["start"].as_str(), changed.data["capacity"].as_u64()),
        (Some(rfc3339(untouched).as_str()), Some(2))
    );
}

#[actix_web::test]
async fn a_stream_with_a_bad_range_or_venue_is_refused_even_when_resuming() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    let mut good = Sse::open(&app, app.window(1), None).await;
    let resumable = good.next(WITHIN).await.expect("the current state").id;
    let (from, to) = (rfc3339(app.window(2)), rfc3339(app.window(1)));
    let url = app.url(&format!("/v1/venues/{VENUE}/stream?from={from}&to={to}"));
    for last_event_id in [None, Some(resumable.as_str())] {
        let mut request = app.client.get(&url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        crate::helpers::assert_error(
            request.send().await.expect("answered"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_range",
        )
        .await;
    }
    let unknown = app.client.get(app.url("/v1/venues/nowhere/stream")).send().await.expect("answered");
    crate::helpers::assert_error(unknown, StatusCode::NOT_FOUND, "venue_not_found").await;
}
