//! The real binary with snapshots: it writes them every N records and on a graceful
//! stop, starts from the newest one after SIGKILL or a restart keeping every
//! acknowledged change, and `qskip replay` refuses a data dir the service holds, then
//! agrees with the snapshot once the service is stopped.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use qskip::store::snapshot::SnapshotDir;
use reqwest::StatusCode;

use crate::helpers::{
    BinaryHome, TestConfig, VENUE, VenueSpec, created, dev_result, eventually, wall_window, window_len,
};

/// A home whose service snapshots every `every` records.
fn home_snapshotting_every(every: u64) -> BinaryHome {
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 40)]);
    config.snapshot_every_events = Some(every);
    BinaryHome::with_config(config)
}

/// `qskip replay --json` on `data_dir`: exit code, stdout, stderr.
pub fn run_replay(data_dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qskip"))
        .args(["replay", "--json", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("run qskip replay");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().expect("exited"), text(&out.stdout), text(&out.stderr))
}

/// Log text without ANSI colour codes.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

fn snapshot_seqs(data_dir: &Path) -> Vec<u64> {
    SnapshotDir::of_data_dir(data_dir).list().expect("list snapshots").into_iter().map(|(seq, _)| seq).collect()
}

#[actix_web::test]
async fn start_up_from_a_snapshot_keeps_every_acknowledged_reservation() {
    let home = home_snapshotting_every(10);
    let first = wall_window(2);
    let mut binary = home.start();
    let mut expected = BTreeMap::new();
    for n in 0..12 {
        let start = first + window_len() * (n % 4);
        let r = created(binary.reserve_in(VENUE, start, 1).await).await;
        let status = if n % 3 == 0 {
            assert_eq!(dev_result(&binary.dev_pay(&r.id).await, &r.id), "paid");
            "confirmed"
        } else {
            "held"
        };
        expected.insert(r.id, status);
    }
    eventually("the service to write a snapshot (one every 10 records)", || async {
        let seqs = snapshot_seqs(&home.data_dir);
        if seqs.is_empty() { Err(seqs) } else { Ok(seqs) }
    })
    .await;
    // A tail after the snapshot, acknowledged, then SIGKILL: no shutdown snapshot.
    for n in 0..3 {
        let r = created(binary.reserve_in(VENUE, first + window_len() * n, 2).await).await;
        expected.insert(r.id, "held");
    }
    let (code, _, stderr) = run_replay(&home.data_dir);
    assert_ne!(code, 0, "replay must not open a data dir the service holds");
    assert!(stderr.contains("in use by another qskip process"), "{stderr}");
    let counts_before = binary.window_range(VENUE, first, first + window_len() * 4).await;
    binary.kill_9();
    assert!(snapshot_seqs(&home.data_dir).len() <= 2, "only the newest two snapshots are kept");

    let mut binary = home.start();
    for (id, status) in &expected {
        assert_eq!(binary.reservation(id).await.status, *status, "{id} after SIGKILL");
    }
    assert_eq!(binary.window_range(VENUE, first, first + window_len() * 4).await, counts_before);
    let log = plain(&binary.stderr());
    assert!(log.contains("recovered state") && !log.contains("snapshot=None"), "from a snapshot: {log}");
    assert!(binary.terminate().success());

    // The graceful stop snapshotted everything, and replay agrees with that snapshot.
    let (code, stdout, stderr) = run_replay(&home.data_dir);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["snapshot"]["matches"], true, "{report}");
    assert_eq!(report["snapshot"]["seq"], report["records"], "the last snapshot covers the whole log");
    // Snapshots lost: `--rebuild-snapshots` writes one from the log, equal to the service's.
    let newest = SnapshotDir::of_data_dir(&home.data_dir).list().expect("list")[0].1.clone();
    let by_service = std::fs::read(&newest).expect("read the shutdown snapshot");
    std::fs::remove_dir_all(SnapshotDir::of_data_dir(&home.data_dir).path()).expect("remove snapshots");
    let rebuilt = Command::new(env!("CARGO_BIN_EXE_qskip"))
        .args(["replay", "--rebuild-snapshots", "--data-dir"])
        .arg(&home.data_dir)
        .output()
        .expect("run qskip replay --rebuild-snapshots");
    assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
    let by_replay = std::fs::read(&newest).expect("the rebuilt snapshot has the same name");
    let state = |bytes: &[u8]| {
        let mut state = qskip::store::snapshot::convert::from_wire(
            qskip::store::snapshot::codec::decode(bytes).expect("a good snapshot"),
        )
        .expect("valid");
        state.taken_at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        state
    };
    assert_eq!(state(&by_replay), state(&by_service), "same state, whoever wrote it");
    let binary = home.start();
    let log = plain(&binary.stderr());
    assert!(log.contains("records=0"), "nothing left to fold: {log}");
    for (id, status) in &expected {
        assert_eq!(binary.reservation(id).await.status, *status, "{id} after a graceful restart");
    }
    let refused = binary.reserve_in(VENUE, first, 11).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT, "capacity still counts the recovered holds");
}
