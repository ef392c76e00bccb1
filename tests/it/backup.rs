//! Backup and restore (`backups/README.md`): a backup taken from the running service
//! under concurrent reservations and payments restores every reservation acknowledged
//! before it, with its status, the state digest its header states and the refunds owed;
//! damaged files are refused and leave nothing behind. Archiving: `backup_archive`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use qskip::app::Application;
use qskip::backup::client::backup_remote;
use qskip::backup::restore::{restore, verify};
use qskip::backup::{BackupError, Header};
use qskip::clock::ManualClock;
use qskip::config::Config;
use qskip::replay::{Filter, replay};
use qskip::store::EventLog;
use qskip::store::snapshot::SnapshotDir;
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Api, AppOptions, TestApp, TestConfig, VENUE, VenueSpec, created, dev_result, eventually, spawn_app_with,
};
use crate::stripe_fake::{event, mount_refunds, post_signed, stripe_config};

pub const TOKEN: &str = "test-admin-token-0123456789abcdef";

/// A reservation a client was told about, and when.
#[derive(Debug, Clone)]
pub struct Acked {
    pub reserved: Instant,
    /// When the payment was acknowledged, if it was.
    pub paid: Option<Instant>,
}

/// Reserves one slot after another (paying every other one) in `starts`, moving on when
/// a window is sold out, until `stop` or every window is full.
pub async fn shopper(api: Api, starts: Vec<DateTime<Utc>>, stop: Arc<AtomicBool>) -> Vec<(String, Acked)> {
    let mut acked = Vec::new();
    let mut windows = starts.into_iter();
    let mut start = windows.next();
    while let Some(window) = start.filter(|_| !stop.load(Ordering::Relaxed)) {
        let response = api.reserve_in(VENUE, window, 1).await;
        if response.status() != StatusCode::CREATED {
            start = windows.next();
            continue;
        }
        let reservation = created(response).await;
        let reserved = Instant::now();
        let paid = match acked.len() % 2 {
            0 => (dev_result(&api.dev_pay(&reservation.id).await, &reservation.id) == "paid").then(Instant::now),
            _ => None,
        };
        acked.push((reservation.id, Acked { reserved, paid }));
    }
    acked
}

/// The owed refunds' reservation ids, from the admin API.
async fn owed_refunds(api: &Api) -> Vec<String> {
    let response = api.client.get(api.url("/v1/admin/refunds")).bearer_auth(TOKEN).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Vec<Value> = response.json().await.expect("JSON");
    listed.iter().map(|r| r["reservation_id"].as_str().expect("an id").to_owned()).collect()
}

/// A confirmed reservation of `tiny` paid a second time: that payment is owed back.
async fn owe_a_refund(app: &TestApp, intent: &str) -> String {
    let reservation = created(app.reserve_in("tiny", app.window(1), 1).await).await;
    let now = app.now().timestamp();
    for (n, pi) in [("first", "pi_first"), ("again", intent)] {
        let body = event(&format!("evt_{n}"), "checkout.session.completed", &reservation.id, pi, "paid", 500);
        assert_eq!(post_signed(&app.api, &body, now).await.status(), StatusCode::OK);
    }
    assert!(owed_refunds(app).await.contains(&reservation.id), "the second payment is owed back");
    reservation.id
}

/// A Stripe that answers every call with 500: refunds stay owed, retried later.
async fn failing_stripe() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    server
}

/// The venues and admin token, with Stripe's refund worker pointed at `server`.
fn config_with_stripe(server: &MockServer) -> TestConfig {
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 400), VenueSpec::new("tiny", 4)]);
    config.payments = Some(stripe_config(&server.uri()));
    config.admin_token = Some(TOKEN.into());
    config
}

/// Serves `data_dir` in-process with the same venues, admin token and clock time.
async fn serve_restored(data_dir: &Path, config: TestConfig, now: DateTime<Utc>) -> Api {
    let config = Config::from_toml(&config.in_dir(data_dir).to_toml(), Path::new("restored.toml")).expect("valid");
    let app = Application::build(config, Arc::new(ManualClock::new(now))).await.expect("the restored dir serves");
    let address = format!("http://127.0.0.1:{}", app.addr().port());
    actix_web::rt::spawn(app.run_until_stopped());
    Api::new(address)
}

/// The replay digest of a stopped data dir, which must have no violations.
fn replay_digest(data_dir: &Path) -> String {
    let log = EventLog::open(data_dir).expect("the restored log opens");
    let report = replay(&log, &SnapshotDir::of_data_dir(data_dir), &Filter::default(), |_, _| {}).expect("replays");
    assert!(report.violations.is_empty(), "violations: {:?}", report.violations);
    report.digest
}

pub fn sales_app_options() -> AppOptions {
    AppOptions::capacity(100).venue(VenueSpec::new("tiny", 4)).admin_token(TOKEN)
}

#[actix_web::test]
async fn a_backup_under_load_restores_every_acknowledged_reservation_with_its_status_and_debts() {
    let stripe = failing_stripe().await;
    let options = AppOptions { config: config_with_stripe(&stripe), ..AppOptions::default() };
    let app = spawn_app_with(options).await;
    let owed = owe_a_refund(&app, "pi_twice").await;
    let stop = Arc::new(AtomicBool::new(false));
    let starts: Vec<_> = (1..=6).map(|n| app.window(n)).collect();
    let shoppers =
        futures_util::future::join_all((0..6).map(|_| shopper(app.api.clone(), starts.clone(), stop.clone())));
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("sales.qsbak");
    let backup = async {
        // Let sales get going, then back up while they continue.
        let log = app.services.log().clone();
        eventually("the shoppers to get going", || async {
            let seq = log.last_seq().map_err(|e| e.to_string())?;
            if seq > 60 { Ok(()) } else { Err(seq.to_string()) }
        })
        .await;
        let asked = Instant::now();
        let header = backup_remote(&app.address, TOKEN, &file).await.expect("the backup is taken");
        stop.store(true, Ordering::Relaxed);
        (asked, header)
    };
    let (acked, (asked, header)) = futures_util::future::join(shoppers, backup).await;
    let acked: BTreeMap<String, Acked> = acked.into_iter().flatten().collect();
    let before: Vec<_> = acked.iter().filter(|(_, a)| a.reserved < asked).collect();
    assert!(before.iter().any(|(_, a)| a.paid.is_some_and(|p| p < asked)), "no payment before the backup");
    assert!(acked.values().any(|a| a.reserved > asked), "sales did not go on during the backup");

    let restored = dir.path().join("restored");
    let outcome = restore(&file, None, &restored).expect("the backup restores");
    assert_eq!(outcome.last_seq, header.last_seq);
    assert_eq!(Some(replay_digest(&restored)), header.digest, "the restored log folds to the stated digest");

    // The restored service owes the refund and issues it exactly once.
    let refunds = MockServer::start().await;
    mount_refunds(&refunds, "pi_twice", "re_after_restore", 1).await;
    let api = serve_restored(&restored, config_with_stripe(&refunds), app.now()).await;
    for (id, ack) in &before {
        let status = api.reservation(id).await.status;
        match ack.paid.is_some_and(|paid| paid < asked) {
            true => assert_eq!(status, "confirmed", "{id} was paid before the backup"),
            false => assert!(["held", "confirmed"].contains(&status.as_str()), "{id}: {status}"),
        }
    }
    let refunded = eventually("the refund owed at the backup to be issued after the restore", || async {
        let body: Value = api.get_reservation(&owed).await.json().await.map_err(|e| e.to_string())?;
        if body["refunds"][0]["state"] == "refunded" { Ok(body) } else { Err(body.to_string()) }
    })
    .await;
    assert_eq!(refunded["refunds"][0]["refund_id"], "re_after_restore");
    refunds.verify().await;
}

/// A backup of a small service, and the bytes of the file.
async fn small_backup(dir: &Path) -> (PathBuf, Vec<u8>, Header) {
    let app = spawn_app_with(sales_app_options()).await;
    for n in 1..=3 {
        created(app.reserve_in(VENUE, app.window(n), 2).await).await;
    }
    let file = dir.join("small.qsbak");
    let header = backup_remote(&app.address, TOKEN, &file).await.expect("the backup is taken");
    let bytes = std::fs::read(&file).expect("the file is readable");
    (file, bytes, header)
}

/// Restoring `bytes` fails with a message containing `expected`, leaving nothing.
fn assert_refused(dir: &Path, name: &str, bytes: &[u8], expected: &str) {
    let file = dir.join(format!("{name}.qsbak"));
    std::fs::write(&file, bytes).expect("written");
    let target = dir.join(format!("target-{name}"));
    let error = restore(&file, None, &target).expect_err(name).to_string();
    assert!(error.contains(expected), "{name}: {error:?} does not say {expected:?}");
    assert!(!target.exists(), "{name}: a refused restore left {}", target.display());
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("listable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("restoring"))
        .collect();
    assert!(leftovers.is_empty(), "{name}: left {leftovers:?}");
    let verified = verify(&file, None).expect_err(name).to_string();
    assert!(verified.contains(expected), "verify {name}: {verified:?}");
}

/// Re-seals a header after an edit (so only the intended field is wrong).
fn reseal_header(bytes: &mut [u8]) {
    let mut covered = bytes[..80].to_vec();
    qskip::store::frame::seal(&mut covered);
    bytes[..84].copy_from_slice(&covered);
}

#[actix_web::test]
async fn corrupt_truncated_wrong_version_and_foreign_files_are_refused_and_nothing_is_restored() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (file, good, header) = small_backup(dir.path()).await;
    assert!(header.record_count > 3, "{header:?}");
    assert_eq!(verify(&file, None).expect("the good file verifies").last_seq, header.last_seq);

    let mut flipped = good.clone();
    flipped[84 + 4 + 2] ^= 0x40;
    assert_refused(dir.path(), "flipped", &flipped, "record 1 in the backup is corrupt");
    for cut in [0, 7, 50, 84, 90, good.len() / 2, good.len() - 21, good.len() - 1] {
        let expected = match cut {
            0 | 7 => "not a qskip backup file",
            50 => "truncated: the file is only 50 bytes",
            c if c < good.len() - 20 => "the backup is truncated: it ends after",
            _ => "trailer is missing",
        };
        assert_refused(dir.path(), &format!("cut{cut}"), &good[..cut], expected);
    }
    let mut version = good.clone();
    version[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert_refused(dir.path(), "version", &version, "backup format version 2; this qskip reads version 1");
    assert_refused(dir.path(), "foreign", b"SQLite format 3\0 and then some more bytes", "not a qskip backup file");
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"x");
    assert_refused(dir.path(), "trailing", &trailing, "followed by unexpected bytes");
    let mut header_bit = good.clone();
    header_bit[30] ^= 1;
    assert_refused(dir.path(), "header", &header_bit, "the backup header is corrupt: checksum mismatch");
    let mut digest = good.clone();
    digest[50] ^= 1;
    reseal_header(&mut digest);
    assert_refused(dir.path(), "digest", &digest, "the state digest does not match");
    let mut body = good.clone();
    let last = good.len() - 21;
    body[last] ^= 1;
    assert_refused(dir.path(), "last-record", &body, "is corrupt");

    // A target that is not empty is refused and left alone.
    let busy = dir.path().join("busy");
    std::fs::create_dir_all(&busy).expect("created");
    std::fs::write(busy.join("keep.txt"), "mine").expect("written");
    let error = restore(&file, None, &busy).expect_err("a non-empty target");
    assert!(matches!(error, BackupError::TargetNotEmpty(_)), "{error}");
    assert_eq!(std::fs::read_to_string(busy.join("keep.txt")).expect("kept"), "mine");
    // An empty one is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("created");
    assert_eq!(restore(&file, None, &empty).expect("restores").last_seq, header.last_seq);
}
