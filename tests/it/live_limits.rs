//! Live streams under attack (issue 11, defect 5, and the failure paths): the 1,025th
//! stream is refused, one client IP holds at most its cap, a stream whose client stops
//! reading is disconnected once its bytes stop draining, and keep-alives follow the
//! injected clock.

use std::net::SocketAddr;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{
    AppOptions, LimitsConfig, TestApp, VENUE, VenueSpec, assert_error, eventually, eventually_within, rfc3339,
    spawn_app_with,
};
use crate::metrics::{scrape, value};

const TOKEN: &str = "test-admin-token-0123456789abcdef";

/// Opens `GET /v1/venues/bar/stream?{query}` on a raw connection from `from` and
/// returns it once the status line is read (asserting 200).
async fn open_stream(app: &TestApp, from: &str, query: &str, recv_buffer: Option<u32>) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    if let Some(bytes) = recv_buffer {
        socket.set_recv_buffer_size(bytes).expect("a small receive buffer");
    }
    socket.bind(format!("{from}:0").parse::<SocketAddr>().expect("an address")).expect("bind");
    let mut stream =
        socket.connect(format!("127.0.0.1:{}", app.port).parse().expect("an address")).await.expect("connect");
    let request = format!("GET /v1/venues/{VENUE}/stream?{query} HTTP/1.1\r\nHost: qskip\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("the request is sent");
    let mut head = [0u8; 12];
    tokio::time::timeout(StdDuration::from_secs(30), stream.read_exact(&mut head))
        .await
        .expect("the stream answers in time")
        .expect("the status line is read");
    assert_eq!(&head, b"HTTP/1.1 200", "{}", String::from_utf8_lossy(&head));
    stream
}

fn stream_url(app: &TestApp) -> String {
    app.url(&format!("/v1/venues/{VENUE}/stream"))
}

#[actix_web::test]
async fn the_stream_after_the_last_allowed_one_is_refused_and_a_closed_one_frees_a_place() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    let cap = qskip::limits::LIVE_SUBSCRIBERS_MAX;
    let mut open = Vec::with_capacity(cap);
    for _ in 0..cap {
        open.push(open_stream(&app, "127.0.0.1", "", None).await);
    }
    let refused = app.client.get(stream_url(&app)).send().await.expect("answered");
    assert!(refused.headers().contains_key("Retry-After"));
    assert_error(refused, StatusCode::SERVICE_UNAVAILABLE, "too_many_subscribers").await;
    drop(open.pop());
    eventually("a closed stream gives its place back", || async {
        let response = app.client.get(stream_url(&app)).timeout(StdDuration::from_secs(5)).send().await;
        let status = response.map_err(|e| e.to_string())?.status();
        if status == StatusCode::OK { Ok(()) } else { Err(status.to_string()) }
    })
    .await;
}

#[actix_web::test]
async fn one_client_ip_holds_at_most_its_streams() {
    let limits =
        LimitsConfig { streams_per_ip: Some(3), reservations_per_ip_per_minute: Some(1_000), ..LimitsConfig::on() };
    let app = spawn_app_with(AppOptions::with_venues(vec![VenueSpec::new(VENUE, 40)]).limits(limits)).await;
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(open_stream(&app, "127.0.0.1", "", None).await);
    }
    let over = app.client.get(stream_url(&app)).send().await.expect("answered");
    assert_error(over, StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;
    // Another client is not affected.
    let _theirs = open_stream(&app, "127.0.0.2", "", None).await;
    drop(mine.pop());
    eventually("a closed stream gives its client's place back", || async {
        let response = app.client.get(stream_url(&app)).timeout(StdDuration::from_secs(5)).send().await;
        let status = response.map_err(|e| e.to_string())?.status();
        if status == StatusCode::OK { Ok(()) } else { Err(status.to_string()) }
    })
    .await;
}

#[actix_web::test]
async fn keep_alives_follow_the_injected_clock_every_15_seconds() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    let mut stream = open_stream(&app, "127.0.0.1", "", None).await;
    let mut seen = String::new();
    let read_for = async |stream: &mut TcpStream, wait: StdDuration| {
        let mut buf = vec![0u8; 64 * 1024];
        let deadline = Instant::now() + wait;
        let mut got = String::new();
        while let Ok(Ok(n)) =
            tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), stream.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
            if got.contains(": keep-alive") {
                break;
            }
        }
        got
    };
    seen.push_str(&read_for(&mut stream, StdDuration::from_secs(2)).await);
    assert!(seen.contains("event: window") && !seen.contains("keep-alive"), "{seen}");
    for round in 0..2 {
        app.advance(Duration::seconds(14));
        let early = read_for(&mut stream, StdDuration::from_millis(1_500)).await;
        assert!(!early.contains(": keep-alive"), "round {round}: a keep-alive before 15 s of clock time: {early}");
        app.advance(Duration::seconds(1));
        let due = read_for(&mut stream, StdDuration::from_secs(5)).await;
        assert!(due.contains(": keep-alive"), "round {round}: no keep-alive at 15 s of clock time: {due}");
    }
}

#[actix_web::test]
async fn a_stream_whose_client_stops_reading_is_disconnected() {
    let app = spawn_app_with(AppOptions::capacity(5).admin_token(TOKEN)).await;
    let venue = qskip::domain::VenueId::parse(VENUE).expect("valid");
    // A week of windows: every schedule change re-sends all 672 of them.
    let query = format!("from={}&to={}", rfc3339(app.window(0)), rfc3339(app.window(7 * 24 * 4)));
    let stalled = open_stream(&app, "127.0.0.2", &query, Some(4096)).await;
    assert_eq!(app.services.availability.live_hub().subscribers(&venue), 1);
    let started = Instant::now();
    let mut slots = 8;
    let what = "the stalled stream to give its place back";
    eventually_within(what, StdDuration::from_secs(60), || {
        slots = if slots == 8 { 12 } else { 8 };
        let body = json!({ "name": "Bar", "timezone": "UTC", "price_minor": 500, "currency": "eur",
                           "slots_per_hour": slots });
        let request = app.client.put(app.url(&format!("/v1/admin/venues/{VENUE}"))).bearer_auth(TOKEN).json(&body);
        let (app, venue) = (&app, &venue);
        async move {
            let _ = request.header("X-Qskip-Operator", "test").send().await;
            let subscribers = app.services.availability.live_hub().subscribers(venue);
            if subscribers == 0 { Ok(()) } else { Err(format!("{subscribers} after {:?}", started.elapsed())) }
        }
    })
    .await;
    // Its connection, stuck on bytes the client never takes, is closed at the stall
    // deadline (the counter is process-wide; only this test stalls a connection).
    let stalled_series = qskip::telemetry::CONNECTIONS_STALLED;
    eventually_within("a connection to be closed for stalling", StdDuration::from_secs(40), || async {
        let closed = value(&scrape(&app).await, stalled_series);
        if closed >= 1.0 { Ok(()) } else { Err(closed) }
    })
    .await;
    // Everybody else is served meanwhile and afterwards.
    let health = app.client.get(app.url("/healthz")).send().await.expect("answered");
    assert_eq!(health.status(), StatusCode::OK);
    drop(stalled);
}
