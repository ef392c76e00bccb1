//! Connection-level attacks through the real server (issue 11, defect 2): slow request
//! bodies from one address must not keep anybody else out, and the process raises its
//! own file-descriptor limit.

use std::net::SocketAddr;
use std::time::{Duration as StdDuration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{AppOptions, BinaryHome, LimitsConfig, TestApp, VENUE, VenueSpec, created, spawn_app_with};

/// Opens a connection to `app` from the loopback address `from` (Linux routes all of
/// 127/8 to the loopback device), so the attacker is another client than the test.
async fn connect_from(app: &TestApp, from: &str) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse::<SocketAddr>().expect("an address"))?;
    socket.connect(format!("127.0.0.1:{}", app.port).parse().expect("an address")).await
}

/// The head of a reservation request announcing a 16 KB body, and its first byte.
fn slow_head() -> String {
    format!(
        "POST /v1/venues/{VENUE}/reservations HTTP/1.1\r\nHost: qskip\r\nContent-Type: application/json\r\n\
         Content-Length: 16000\r\n\r\n{{"
    )
}

/// Whatever the server sends within `timeout` (until it closes or stops sending).
async fn read_for(stream: &mut TcpStream, timeout: StdDuration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(timeout, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_web::test]
async fn slow_bodies_from_one_address_do_not_keep_others_out() {
    const CAP: usize = 20;
    const ATTACKERS: usize = 200;
    let limits = LimitsConfig {
        reservations_per_ip_per_minute: Some(10_000),
        active_hold_slots_per_client: Some(1_000),
        connections_per_ip: Some(CAP as u32),
        ..LimitsConfig::on()
    };
    let app = spawn_app_with(AppOptions::with_venues(vec![VenueSpec::new(VENUE, 400)]).limits(limits)).await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..ATTACKERS {
        let Ok(mut stream) = connect_from(&app, "127.0.0.2").await else {
            refused += 1;
            continue;
        };
        if stream.write_all(slow_head().as_bytes()).await.is_err() {
            refused += 1;
            continue;
        }
        held.push(stream);
    }
    // Everyone over the cap is answered 503 (or closed) at once; the rest trickle on.
    let mut open = Vec::new();
    for mut stream in held {
        let answer = read_for(&mut stream, StdDuration::from_millis(50)).await;
        match answer.is_empty() {
            true => open.push(stream),
            false => {
                assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
                assert!(answer.contains("too_many_connections"), "{answer}");
                refused += 1;
            }
        }
    }
    assert!(open.len() <= CAP, "{} connections of one address stay open, cap {CAP}", open.len());
    assert_eq!(refused + open.len(), ATTACKERS);
    // Another client is served promptly during the attack.
    for n in 0..5 {
        let started = Instant::now();
        let health = app.client.get(app.url("/healthz")).send().await.expect("healthz is answered");
        assert_eq!(health.status(), StatusCode::OK);
        created(app.reserve_in(VENUE, app.window(1), 1).await).await;
        assert!(started.elapsed() < StdDuration::from_secs(5), "round {n} took {:?}", started.elapsed());
    }
    // The slow bodies end with a 408 at the body deadline, not whenever the client likes.
    for stream in open.iter_mut() {
        let _ = stream.write_all(b" ").await;
    }
    let answer = read_for(&mut open[0], StdDuration::from_secs(30)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert_eq!(app.window_counts(VENUE, app.window(1)).await.held, 5, "the slow requests held nothing");
}

#[test]
fn the_binary_raises_its_soft_descriptor_limit_to_the_hard_one() {
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 40)]);
    let app = home.start_with_soft_nofile(256);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", app.pid())).expect("/proc is readable");
    let line = limits.lines().find(|l| l.starts_with("Max open files")).expect("a Max open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (soft, hard) = (fields[3], fields[4]);
    assert_ne!(soft, "256", "{line}");
    assert_eq!(soft, hard, "{line}");
}
