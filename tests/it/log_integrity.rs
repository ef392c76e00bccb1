//! Damage in the log, made by writing raw bytes through sled while the real binary is
//! stopped: a torn record at the end (never acknowledged) is dropped with its index
//! entries at start-up; a flipped byte in a record in the middle makes exactly its
//! window answer `503 window_corrupt`, while other windows serve; `qskip replay` names
//! that window and the position.

use chrono::{DateTime, Utc};
use qskip::domain::{ReservationId, VenueId, WindowEvent, WindowKey};
use qskip::store::{Record, codec, keys};
use reqwest::StatusCode;

use crate::helpers::{BinaryHome, VENUE, VenueSpec, assert_error, created, wall_window, window_len};
use crate::snapshot_restart::{plain, run_replay};

fn key(start: DateTime<Utc>) -> WindowKey {
    WindowKey::new(VenueId::parse(VENUE).expect("valid venue id"), start)
}

/// The seq of the `HoldPlaced` of reservation `id`.
fn hold_seq(db: &sled::Db, id: &str) -> u64 {
    let id = ReservationId::from_uuid(id.parse().expect("UUID"));
    for entry in db.scan_prefix([keys::LOG]) {
        let (k, v) = entry.expect("sled read");
        if let Ok((_, Record::Window(_, WindowEvent::HoldPlaced { reservation_id, .. }))) = codec::decode(&v)
            && reservation_id == id
        {
            return keys::log_seq(&k).expect("an L key");
        }
    }
    panic!("no HoldPlaced for {id}");
}

#[actix_web::test]
async fn a_torn_tail_is_dropped_and_a_corrupt_record_closes_only_its_window() {
    let home = BinaryHome::new(vec![VenueSpec::new(VENUE, 40)]);
    let (a, b, untouched) = (wall_window(2), wall_window(3), wall_window(6));
    let mut binary = home.start();
    let mut in_a = Vec::new();
    for _ in 0..3 {
        in_a.push(created(binary.reserve_in(VENUE, a, 1).await).await.id);
    }
    let in_b = created(binary.reserve_in(VENUE, b, 2).await).await.id;
    created(binary.reserve_in(VENUE, b, 1).await).await;
    // SIGKILL: no shutdown snapshot, so start-up reads these records from the log.
    binary.kill_9();

    let (corrupt_seq, torn_seq, ghost) = {
        let db = sled::open(&home.data_dir).expect("the stopped service's sled opens");
        let corrupt_seq = hold_seq(&db, &in_a[1]);
        let mut bytes = db.get(keys::log(corrupt_seq)).expect("read").expect("present").to_vec();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        db.insert(keys::log(corrupt_seq), bytes).expect("flip a byte");
        // A torn last record, as a crash mid-write would leave it, with index entries.
        let (last_key, last) = db.scan_prefix([keys::LOG]).next_back().expect("a record").expect("read");
        let torn_seq = keys::log_seq(&last_key).expect("an L key") + 1;
        db.insert(keys::log(torn_seq), &last[..last.len() - 5]).expect("torn record");
        let mut w = keys::window_prefix(&key(untouched));
        w.extend_from_slice(&torn_seq.to_be_bytes());
        db.insert(w, Vec::new()).expect("its W entry");
        let ghost = ReservationId::from_bytes([7; 16]);
        db.insert(keys::reservation(&ghost), &torn_seq.to_be_bytes()).expect("its R entry");
        db.flush().expect("flush");
        (corrupt_seq, torn_seq, ghost)
    };

    let mut binary = home.start();
    let log = plain(&binary.stderr());
    assert!(log.contains("dropped undecodable records") && log.contains(&format!("{torn_seq}")), "{log}");
    // Window a refuses service, whatever is asked of it.
    let window_a = binary.windows(VENUE, Some(a), Some(a + window_len())).await;
    assert_error(window_a, StatusCode::SERVICE_UNAVAILABLE, "window_corrupt").await;
    for id in &in_a {
        let error = assert_error(binary.get_reservation(id).await, StatusCode::SERVICE_UNAVAILABLE, "window_corrupt");
        error.await;
    }
    assert_error(binary.reserve_in(VENUE, a, 1).await, StatusCode::SERVICE_UNAVAILABLE, "window_corrupt").await;
    // Window b serves; the torn record left nothing behind.
    assert_eq!(binary.reservation(&in_b).await.status, "held");
    assert_eq!(binary.window_counts(VENUE, b).await.held, 3);
    created(binary.reserve_in(VENUE, b, 1).await).await;
    assert_eq!(binary.get_reservation(&ghost.to_string()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(binary.window_counts(VENUE, untouched).await.held, 0);
    assert!(binary.terminate().success());

    let db = sled::open(&home.data_dir).expect("reopen");
    assert!(db.scan_prefix(keys::window_prefix(&key(untouched))).next().is_none(), "torn W entry removed");
    assert!(db.get(keys::reservation(&ghost)).expect("read").is_none(), "torn R entry removed");
    drop(db);
    let (code, stdout, _) = run_replay(&home.data_dir);
    assert_eq!(code, 2, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let violation = &report["violations"][0];
    assert_eq!(violation["seq"], corrupt_seq, "{report}");
    assert_eq!(violation["window"], key(a).to_string(), "{report}");
    assert!(violation["message"].as_str().is_some_and(|m| m.contains("unreadable")), "{report}");
}
