//! The load generator shared by the load benches: a generic driver ([`driver`]), an
//! HTTP/1.1 keep-alive client ([`http`]), CPU accounting ([`cpu`]), the HTTP servers
//! ([`servers`]: actix echo and qskip), the peers qskip is compared with, Redis and
//! PostgreSQL, started on loopback by PID ([`peers`]), and the results table
//! ([`report`]).

// Each bench includes this module and uses only part of it.
#![allow(dead_code)]

pub mod cpu;
pub mod driver;
pub mod http;
pub mod peers;
pub mod report;
pub mod servers;

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use driver::Phase;
use servers::{ServerThread, reserve_body};

/// The first spread window (next quarter hour + 1 h) and the first hot window (a day
/// later): well inside the 7-day sales horizon and in the future for the whole run.
pub fn first_windows() -> (DateTime<Utc>, DateTime<Utc>) {
    let quarter = TimeDelta::minutes(15);
    let first = Utc::now().duration_trunc(quarter).expect("truncate to a quarter hour") + TimeDelta::hours(1);
    (first, first + TimeDelta::days(1))
}

/// The actix JSON echo of the reserve bodies: the ceiling.
pub fn echo_phase(echo: &ServerThread) -> Phase {
    let (first, _) = first_windows();
    let quarter = TimeDelta::minutes(15);
    let requests: Vec<Arc<[u8]>> = (0..peers::SPREAD_WINDOWS)
        .map(|i| http::post(echo.addr, "/echo", &reserve_body(first + quarter * i as i32)))
        .collect();
    let pick = move |n: u64| requests[n as usize % requests.len()].clone();
    Phase { name: "echo (actix JSON echo)".into(), connect: Arc::new(http::connector(echo.addr, pick, 200)) }
}

/// qskip's durable reserve over HTTP: spread over windows, or every connection on one.
pub fn qskip_phase(qskip: &ServerThread, hot: bool) -> Phase {
    let (first, hot_first) = first_windows();
    let quarter = TimeDelta::minutes(15);
    let (venue, start) = if hot { ("hot", hot_first) } else { ("spread", first) };
    let path = format!("/v1/venues/{venue}/reservations");
    let windows = if hot { 200 } else { peers::SPREAD_WINDOWS };
    let requests: Vec<Arc<[u8]>> =
        (0..windows).map(|i| http::post(qskip.addr, &path, &reserve_body(start + quarter * i as i32))).collect();
    let pick = move |n: u64| {
        let window = peers::window_of(hot, n) - if hot { peers::SPREAD_WINDOWS } else { 0 };
        requests[window as usize].clone()
    };
    let name = if hot { "qskip hot (1 window)" } else { "qskip spread (200 windows)" };
    Phase { name: name.into(), connect: Arc::new(http::connector(qskip.addr, pick, 201)) }
}

/// A GET of a whole day of the spread venue's windows (96), the booking page's read.
pub fn day_phase(qskip: &ServerThread) -> Phase {
    let (first, _) = first_windows();
    let from = first.format("%Y-%m-%dT%H:%M:%SZ");
    let to = (first + TimeDelta::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let request: Arc<[u8]> =
        format!("GET /v1/venues/spread/windows?from={from}&to={to} HTTP/1.1\r\nHost: {}\r\n\r\n", qskip.addr)
            .into_bytes()
            .into();
    let pick = move |_: u64| request.clone();
    Phase { name: "qskip day of windows (96)".into(), connect: Arc::new(http::connector(qskip.addr, pick, 200)) }
}
