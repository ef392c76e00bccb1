//! The `qskip replay` command on logs written directly: a clean history passes (exit 0)
//! with the right figures; a crafted oversell is named with its position (exit 2).

use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use qskip::domain::{
    Command as WindowCommand, ReservationId, Schedule, Venue, VenueEvent, VenueId, Window, WindowEvent, WindowKey,
};
use qskip::store::{EventLog, Journal, JournalOptions, Record};

use crate::helpers::{PATIENCE, eventually_blocking};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamps are valid")
}

fn venue() -> Venue {
    let schedule = Schedule::new(4, &[]).expect("valid schedule");
    let id = VenueId::parse("bar").expect("valid id");
    Venue::new(id, "Bar".into(), chrono_tz::UTC, 500, "eur", 1800, schedule).expect("valid venue")
}

/// Writes `records` durably into a fresh log in `dir`, then closes it.
fn write_log(dir: &std::path::Path, records: Vec<Record>) {
    let log = EventLog::open(dir).expect("open log");
    let journal = Journal::start(log, JournalOptions::default(), Box::new(|_| {})).expect("start journal");
    let now = at("2026-11-28T12:00:00Z");
    let records = records.into_iter().map(|r| (now, r)).collect();
    let (_, durable) = journal.append(records);
    block_on(durable).expect("durable");
    journal.shutdown();
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
}

fn replay(dir: &std::path::Path, json: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qskip"));
    cmd.arg("replay").arg("--data-dir").arg(dir);
    if json {
        cmd.arg("--json");
    }
    // sled lets go of its file lock only once its background flusher has wound down
    // after `write_log` closed the log: on a loaded machine the first try may find the
    // dir still held by this test process. Retried until a deadline; any other outcome
    // is final.
    eventually_blocking("this process's sled to release the data dir", PATIENCE, || {
        let out = cmd.output().expect("run qskip replay");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if stderr.contains("is in use by another qskip process") {
            return Err(stderr);
        }
        Ok((out.status.code().expect("exited"), String::from_utf8_lossy(&out.stdout).into_owned()))
    })
}

#[test]
fn clean_history_passes_with_the_right_figures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = WindowKey::new(VenueId::parse("bar").unwrap(), at("2026-11-28T12:00:00Z"));
    let mut window = Window::unopened(key.clone(), 1);
    let mut records = vec![Record::Venue(VenueEvent::VenueRegistered(venue()))];
    let mut run = |command: WindowCommand, now: DateTime<Utc>| {
        let events = window.decide(&command, now).expect("command accepted");
        events.iter().for_each(|e| window.apply(e));
        records.extend(events.into_iter().map(|e| Record::Window(key.clone(), e)));
    };
    let (a, b) = (ReservationId::from_uuid(uuid::Uuid::new_v4()), ReservationId::from_uuid(uuid::Uuid::new_v4()));
    let ttl = Duration::minutes(5);
    run(
        WindowCommand::PlaceHold {
            reservation_id: a,
            quantity: 1,
            hold_ttl: ttl,
            email: None,
            waitlist_offer_secs: None,
        },
        at("2026-11-28T12:00:00Z"),
    );
    // a expires; b takes the only slot and pays.
    run(
        WindowCommand::PlaceHold {
            reservation_id: b,
            quantity: 1,
            hold_ttl: ttl,
            email: None,
            waitlist_offer_secs: None,
        },
        at("2026-11-28T12:06:00Z"),
    );
    run(WindowCommand::Confirm { reservation_id: b, payment_ref: "dev:b".into() }, at("2026-11-28T12:07:00Z"));
    write_log(dir.path(), records);

    let (code, stdout) = replay(dir.path(), true);
    assert_eq!(code, 0, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["violations"], serde_json::json!([]));
    let w = &report["windows"][0];
    assert_eq!((w["capacity"].as_u64(), w["confirmed"].as_u64(), w["expired"].as_u64()), (Some(1), Some(1), Some(1)));
    assert_eq!(w["held"], 0);
}

#[test]
fn crafted_oversell_is_reported_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = WindowKey::new(VenueId::parse("bar").unwrap(), at("2026-11-28T12:00:00Z"));
    let hold = |n: u8| WindowEvent::HoldPlaced {
        reservation_id: ReservationId::from_bytes([n; 16]),
        quantity: 1,
        placed_at: at("2026-11-28T12:00:00Z"),
        expires_at: at("2026-11-28T12:30:00Z"),
        email: None,
    };
    let records = vec![
        Record::Venue(VenueEvent::VenueRegistered(venue())),
        Record::Window(key.clone(), WindowEvent::WindowOpened { capacity: 1 }),
        Record::Window(key.clone(), hold(1)),
        Record::Window(key, hold(2)),
    ];
    write_log(dir.path(), records);

    let (code, stdout) = replay(dir.path(), false);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("seq 4"), "{stdout}");
    assert!(stdout.contains("beyond capacity"), "{stdout}");
}

#[test]
fn replay_refuses_a_dir_without_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _) = replay(dir.path(), false);
    assert_ne!(code, 0);
}
