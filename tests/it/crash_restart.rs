//! The real binary, stopped gracefully and killed with SIGKILL under load: every
//! acknowledged reservation and payment is there after a restart, and no window ever
//! holds more than its capacity. A second process on the same data dir is refused.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    Api, BinaryApp, BinaryHome, VENUE, VenueSpec, WindowCountsJson, all, created, dev_result, eventually, random_u64,
    rfc3339, wall_window, window_len,
};
use crate::metrics::{scrape, value};

/// Counts of every window in `[from, from + n windows)`.
async fn counts(api: &Api, from: DateTime<Utc>, n: i32) -> Vec<WindowCountsJson> {
    api.window_range(VENUE, from, from + window_len() * n).await
}

#[actix_web::test]
async fn a_graceful_restart_keeps_every_acknowledged_change() {
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 40)]);
    let first = wall_window(2);
    let mut binary = home.start();
    let mut expected = BTreeMap::new();
    for n in 0..3 {
        let start = first + window_len() * n;
        for quantity in [1, 2] {
            let reservation = created(binary.reserve_in(VENUE, start, quantity).await).await;
            expected.insert(reservation.id.clone(), "held");
        }
    }
    let ids: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(dev_result(&binary.dev_pay(&ids[0]).await, &ids[0]), "paid");
    expected.insert(ids[0].clone(), "confirmed");
    assert_eq!(dev_result(&binary.dev_pay(&ids[3]).await, &ids[3]), "paid");
    expected.insert(ids[3].clone(), "confirmed");
    assert_eq!(binary.cancel(&ids[1]).await.status(), StatusCode::OK);
    expected.insert(ids[1].clone(), "cancelled");

    let mut before = BTreeMap::new();
    for id in &ids {
        before.insert(id.clone(), binary.reservation(id).await);
    }
    let counts_before = counts(&binary, first, 3).await;
    let status = binary.terminate();
    assert!(status.success(), "SIGTERM ends qskip cleanly, got {status}; stderr: {}", binary.stderr());

    let binary = home.start();
    for id in &ids {
        let mut after = binary.reservation(id).await;
        assert_eq!(after.status, expected[id], "{id}");
        // The checkout link names the new port; everything else is as it was.
        assert!(after.checkout_url.starts_with(&binary.address), "{}", after.checkout_url);
        assert!(after.checkout_url.ends_with(&format!("/dev/checkout/{id}")), "{}", after.checkout_url);
        after.checkout_url.clone_from(&before[id].checkout_url);
        assert_eq!(&after, &before[id], "{id} reads back identically");
    }
    assert_eq!(counts(&binary, first, 3).await, counts_before, "window counts after the restart");
    // The restarted service goes on selling from the recovered state.
    let start = first + window_len() * 2;
    let left = binary.window_counts(VENUE, start).await.available;
    created(binary.reserve_in(VENUE, start, left).await).await;
    let refused = binary.reserve_in(VENUE, start, 1).await;
    crate::helpers::assert_error(refused, StatusCode::CONFLICT, "sold_out").await;
}

/// An acknowledged reservation: venue, window start, quantity, and whether its
/// payment was acknowledged too.
#[derive(Debug, Clone)]
struct Acked {
    venue: &'static str,
    start: DateTime<Utc>,
    quantity: u32,
    paid: bool,
}

const CLIENTS: usize = 16;
/// SIGKILLs per run of the crash loop.
const KILLS: i32 = 20;
/// Windows each round sells into (fresh ones per round, so every round sells).
const WINDOWS: i32 = 6;
/// A roomy venue that keeps taking writes until the kill, and a tiny one that sells out
/// at once and keeps refusing under contention.
const VENUES: [(&str, u32); 2] = [("roomy", 400), ("tiny", 3)];

/// Holds acknowledged per round before the kill: a random count, not a random time, so
/// that a busy machine makes a round slower but never emptier.
const ACKS_BEFORE_KILL: std::ops::Range<u64> = 20..200;

/// One client: reserve in a random window of a random venue, pay about half of its
/// holds, until told to stop or the server is gone; counts its holds in `acks`.
/// Returns what was acknowledged.
async fn client(api: Api, first: DateTime<Utc>, stop: Arc<AtomicBool>, acks: Arc<AtomicU64>) -> Vec<(String, Acked)> {
    let mut acked = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let r = random_u64();
        let venue = VENUES[(r >> 24) as usize % VENUES.len()].0;
        let start = first + window_len() * (r % WINDOWS as u64) as i32;
        let quantity = 1 + (r >> 8) as u32 % 2;
        let body = json!({ "quantity": quantity, "window_start": rfc3339(start) });
        let request = api.client.post(api.url(&format!("/v1/venues/{venue}/reservations"))).json(&body);
        let Ok(response) = request.send().await else { break };
        match response.status() {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => continue,
            other => panic!("unexpected answer under load: {other}: {:?}", response.text().await),
        }
        let Ok(text) = response.text().await else { break };
        let reservation: crate::helpers::ReservationJson = serde_json::from_str(&text).expect("a reservation");
        assert_eq!((reservation.window_start, reservation.quantity), (start, quantity));
        acked.push((reservation.id.clone(), Acked { venue, start, quantity, paid: false }));
        acks.fetch_add(1, Ordering::Relaxed);
        if (r >> 16).is_multiple_of(2) {
            let pay = api.client.post(api.url(&format!("/dev/checkout/{}/pay", reservation.id)));
            let Ok(response) = pay.send().await else { break };
            if dev_result(&response, &reservation.id) == "paid" {
                acked.last_mut().expect("just pushed").1.paid = true;
            }
        }
    }
    acked
}

/// Reads one acknowledged reservation back from a restarted binary.
async fn verify_one(binary: &BinaryApp, id: &str, a: &Acked) {
    let response = binary.get_reservation(id).await;
    assert_eq!(response.status(), StatusCode::OK, "acknowledged reservation {id} is lost");
    let reservation: crate::helpers::ReservationJson = response.json().await.expect("a reservation");
    let got = (reservation.venue_id.as_str(), reservation.window_start, reservation.quantity);
    assert_eq!(got, (a.venue, a.start, a.quantity), "{id}");
    if a.paid {
        assert_eq!(reservation.status, "confirmed", "acknowledged payment of {id} is lost");
        assert!(reservation.confirmed_at.is_some(), "{id}");
    } else {
        assert!(["held", "confirmed"].contains(&reservation.status.as_str()), "{id} is {}", reservation.status);
    }
}

/// Reads each of `to_read` back from a restarted binary, as many at a time as there
/// are load clients.
async fn verify_each<'a>(binary: &BinaryApp, to_read: impl IntoIterator<Item = (&'a String, &'a Acked)>) {
    let to_read: Vec<_> = to_read.into_iter().collect();
    for chunk in to_read.chunks(CLIENTS) {
        all(chunk.iter().map(|(id, a)| verify_one(binary, id, a))).await;
    }
}

/// Checks every window against a restarted binary: within capacity, and counting at
/// least what was acknowledged in it (all acknowledged changes so far, in aggregate).
async fn verify_windows(binary: &BinaryApp, first: DateTime<Utc>, windows: i32, acked: &BTreeMap<String, Acked>) {
    let mut acked_per_window: BTreeMap<(&str, DateTime<Utc>), u32> = BTreeMap::new();
    for a in acked.values() {
        *acked_per_window.entry((a.venue, a.start)).or_default() += a.quantity;
    }
    for (venue, capacity) in VENUES {
        let windows = binary.window_range(venue, first, first + window_len() * windows).await;
        assert!(windows.iter().any(|w| w.held + w.confirmed > 0), "{venue}: nothing was sold");
        for window in windows {
            assert_eq!(window.capacity, capacity, "{venue}: {window:?}");
            assert!(window.held + window.confirmed <= window.capacity, "{venue}: oversold after a crash: {window:?}");
            let acked = acked_per_window.get(&(venue, window.start)).copied().unwrap_or(0);
            assert!(
                window.held + window.confirmed >= acked,
                "{venue}: {window:?} counts less than {acked} acknowledged"
            );
        }
    }
}

/// After each restart, every reservation acknowledged since the last kill is read back
/// one by one and every window is checked against everything acknowledged so far;
/// after the last restart every acknowledged reservation is read back again.
#[actix_web::test]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    let home = BinaryHome::new(VENUES.iter().map(|&(id, capacity)| VenueSpec::new(id, capacity * 4)).collect());
    let first = wall_window(2);
    let mut acked = BTreeMap::new();
    let mut binary = home.start();
    for round in 0..KILLS {
        let (stop, acks) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
        let round_first = first + window_len() * (WINDOWS * round);
        let api = binary.api.clone();
        let clients = all((0..CLIENTS).map(|_| client(api.clone(), round_first, stop.clone(), acks.clone())));
        let target = ACKS_BEFORE_KILL.start + random_u64() % (ACKS_BEFORE_KILL.end - ACKS_BEFORE_KILL.start);
        let killer = async {
            eventually(&format!("{target} acknowledged holds under load"), || async {
                let acked = acks.load(Ordering::Relaxed);
                if acked >= target { Ok(()) } else { Err(acked) }
            })
            .await;
            binary.kill_9();
            stop.store(true, Ordering::Relaxed);
        };
        let (results, ()) = futures_util::future::join(clients, killer).await;
        let this_round: BTreeMap<_, _> = results.into_iter().flatten().collect();
        let paid = this_round.values().filter(|a| a.paid).count();
        eprintln!(
            "round {round}: killed after {target}+ holds; {} holds and {paid} payments acknowledged",
            this_round.len()
        );
        binary = home.start();
        verify_each(&binary, &this_round).await;
        acked.extend(this_round);
        verify_windows(&binary, first, WINDOWS * (round + 1), &acked).await;
    }
    verify_each(&binary, &acked).await;
    assert!(acked.values().any(|a| a.paid), "no payment was acknowledged: the test proves little");
    // The roomy venue was still selling when killed (else the kill hit an idle service).
    let roomy = binary.window_range("roomy", first, first + window_len() * WINDOWS).await;
    assert!(roomy.iter().any(|w| w.available > 0), "the roomy venue sold out before the kill: {roomy:?}");
    // The whole history after all the crashes passes the replay audit.
    binary.terminate();
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_qskip"))
        .args(["replay", "--json", "--data-dir"])
        .arg(&home.data_dir)
        .output()
        .expect("run qskip replay");
    let report = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "replay found violations after {KILLS} crashes: {report}");
    assert!(report.contains("\"violations\": []"), "{report}");
}

#[actix_web::test]
async fn a_second_process_on_the_same_data_dir_is_refused() {
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 8)]);
    let binary = home.start();
    let reservation = created(binary.reserve_in(VENUE, wall_window(2), 1).await).await;

    let (status, stderr) = home.run_to_exit();
    assert!(!status.success(), "a second qskip on the same data dir must fail, got {status}");
    let lower = stderr.to_lowercase();
    assert!(lower.contains("in use") && lower.contains("lock"), "unclear message: {stderr}");
    assert!(stderr.contains(home.data_dir.to_str().expect("UTF-8")), "the message names the data dir: {stderr}");

    // The first process was not disturbed.
    assert_eq!(binary.reservation(&reservation.id).await.status, "held");
    assert!(binary.client.get(binary.url("/readyz")).send().await.expect("answered").status().is_success());
}

/// In-process too: a second `Application` on a data dir in use fails to build, with
/// the same clear message.
#[actix_web::test]
async fn a_second_application_on_the_same_data_dir_is_refused() {
    let app = crate::helpers::spawn_app().await;
    let config = app.config.parse().expect("the first app's config is valid");
    let clock = std::sync::Arc::new(qskip::clock::SystemClock);
    let error = match qskip::app::Application::build(config, clock).await {
        Ok(_) => panic!("a second application opened a data dir in use"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("in use") && error.contains("lock"), "unclear message: {error}");
    // The first one still serves.
    created(app.reserve_in(VENUE, app.window(1), 1).await).await;
}

/// Holds that expire while the service is down are dead after the restart: they count
/// for nothing and read as `expired`, with no request needed to notice.
#[actix_web::test]
async fn holds_that_expire_during_downtime_are_dead_after_a_restart() {
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 8).hold_ttl_secs(1)]);
    let start = wall_window(1);
    let mut binary = home.start();
    let old = created(binary.reserve_in(VENUE, start, 2).await).await;
    assert!(binary.terminate().success());
    // The binary reads the wall clock: wait until the hold's end has passed on it.
    eventually("the down service's hold to reach its expiry on the wall clock", || async {
        let now = Utc::now();
        if now > old.expires_at { Ok(()) } else { Err(now) }
    })
    .await;

    let binary = home.start();
    let window = binary.window_counts(VENUE, start).await;
    assert_eq!((window.held, window.confirmed, window.available), (0, 0, 2), "{window:?}");
    assert_eq!(binary.reservation(&old.id).await.status, "expired");
    created(binary.reserve_in(VENUE, start, 2).await).await;
    assert_eq!(binary.reservation(&old.id).await.status, "expired");
}

/// Timers are rebuilt from state after a restart (correctness never depends on them). A hold placed
/// before a restart must get its `HoldExpired` logged on time afterwards even if no
/// request touches its window again.
#[actix_web::test]
async fn expiry_timers_are_rebuilt_after_a_restart() {
    // The hold must outlive the graceful stop, which waits up to SHUTDOWN_TIMEOUT_SECS
    // for idle keep-alive connections (the test's client keeps one).
    let ttl_secs = u32::try_from(qskip::limits::SHUTDOWN_TIMEOUT_SECS).expect("a few seconds") + 3;
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 8).hold_ttl_secs(ttl_secs)]);
    let start = wall_window(1);
    let mut binary = home.start();
    let hold = created(binary.reserve_in(VENUE, start, 1).await).await;
    assert!(binary.terminate().success());
    let mut binary = home.start();
    // Nobody asks about the window (its metrics are no request to it): only a rebuilt
    // timer can expire the hold.
    eventually("a rebuilt timer to expire the hold", || async {
        let expired = value(&scrape(&binary).await, &format!("qskip_holds_expired_total{{venue=\"{VENUE}\"}}"));
        if expired >= 1.0 { Ok(()) } else { Err(expired) }
    })
    .await;
    assert!(binary.terminate().success(), "graceful stop: {}", binary.stderr());
    let log = qskip::store::EventLog::open(&home.data_dir).expect("the stopped binary released the data dir");
    let expired = log.iter().map(|r| r.expect("the log reads back")).any(|(_, _, record)| {
        matches!(record, qskip::store::Record::Window(_, qskip::domain::WindowEvent::HoldExpired { reservation_id, .. })
            if reservation_id.to_string() == hold.id)
    });
    assert!(expired, "no HoldExpired was logged for {} although the metrics counted its expiry", hold.id);
}
