//! Continuous archiving (`[archive]`): with it on, a kill -9 and a lost data dir lose
//! nothing acknowledged before the last archived position; an archive with a gap or from
//! another service is refused by restore; a service whose archive is ahead of its log
//! refuses to start.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use qskip::app::Application;
use qskip::backup::archive::{segments, write_segment};
use qskip::backup::client::backup_remote;
use qskip::backup::restore::restore;
use qskip::clock::ManualClock;
use qskip::config::Config;

use crate::backup::{Acked, TOKEN, sales_app_options, shopper};
use crate::helpers::{
    Api, ArchiveSpec, BinaryHome, TestConfig, VENUE, VenueSpec, created, eventually, spawn_app_with, wall_window,
};

#[actix_web::test]
async fn an_archive_with_a_gap_or_from_another_service_is_refused() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = spawn_app_with(sales_app_options()).await;
    created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let file = dir.path().join("base.qsbak");
    let header = backup_remote(&app.address, TOKEN, &file).await.expect("the backup is taken");
    for n in 2..=5 {
        created(app.reserve_in(VENUE, app.window(n), 1).await).await;
    }
    let log = app.services.log();
    let end = log.last_seq().expect("readable");
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).expect("created");
    let middle = header.last_seq + 2;
    write_segment(log, &archive, 1, middle).expect("written");
    write_segment(log, &archive, middle + 2, end).expect("written");
    let error = restore(&file, Some(&archive), &dir.path().join("gap")).expect_err("a gap").to_string();
    assert!(error.contains(&format!("the archive lacks records {}..={}", middle + 1, middle + 1)), "{error}");
    assert!(!dir.path().join("gap").exists());

    // Closing the gap restores everything.
    write_segment(log, &archive, middle + 1, middle + 1).expect("written");
    assert_eq!(segments(&archive).expect("listed").len(), 3);
    let whole = restore(&file, Some(&archive), &dir.path().join("whole")).expect("restores");
    assert_eq!((whole.last_seq, whole.segments), (end, 3));

    // Another service's segment does not match the backup's records.
    let other = spawn_app_with(sales_app_options()).await;
    for n in 1..=5 {
        created(other.reserve_in(VENUE, other.window(n), 3).await).await;
    }
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).expect("created");
    write_segment(other.services.log(), &foreign, 1, other.services.log().last_seq().expect("readable"))
        .expect("written");
    let error = restore(&file, Some(&foreign), &dir.path().join("mixed")).expect_err("foreign").to_string();
    assert!(error.contains("from another service"), "{error}");
}

/// Reserves in the binary until `stop`, paying every other reservation.
async fn binary_shopper(api: Api, stop: Arc<AtomicBool>) -> Vec<(String, Acked)> {
    let starts: Vec<_> = (2..=9).map(wall_window).collect();
    shopper(api, starts, stop).await
}

/// The largest last position of the segments in `dir`.
fn archived_through(dir: &Path) -> u64 {
    segments(dir).map(|s| s.iter().map(|s| s.last_seq).max().unwrap_or(0)).unwrap_or(0)
}

#[actix_web::test]
async fn with_archiving_a_kill_9_and_a_lost_data_dir_lose_nothing_acknowledged_before_the_archive() {
    let archive_dir = tempfile::tempdir().expect("a temp dir");
    let archive = archive_dir.path().join("archive");
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 400)]);
    config.admin_token = Some(TOKEN.into());
    config.archive = Some(ArchiveSpec { dir: archive.clone(), every_secs: Some(1), every_records: Some(40) });
    let home = BinaryHome::with_config(config);
    let token_file = home.dir.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("written");
    let mut binary = home.start();

    // Some sales, a backup through the CLI, then sales until two more segments are
    // written: the second began after every sale below was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    for n in 2..=4 {
        created(binary.reserve_in(VENUE, wall_window(n), 2).await).await;
    }
    let file = home.dir.path().join("base.qsbak");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_qskip"))
        .args(["backup", "--url", &binary.api.address, "--token-file"])
        .arg(&token_file)
        .arg("--to")
        .arg(&file)
        .status()
        .expect("qskip backup runs");
    assert!(status.success(), "qskip backup failed");
    let shoppers = futures_util::future::join_all((0..4).map(|_| binary_shopper(binary.api.clone(), stop.clone())));
    let watcher = async {
        eventually("more than 100 records to be archived", || async {
            let up = binary.api.client.get(binary.api.url("/healthz")).send().await.is_ok();
            let through = archived_through(&archive);
            if up && through > 100 { Ok(()) } else { Err(through) }
        })
        .await;
        let checkpoint = Instant::now();
        let mut seen = segments(&archive).expect("listed").len();
        let mut new_segments = 0;
        eventually("the archiver to write two more segments", || {
            let now = segments(&archive).map(|s| s.len()).unwrap_or(0);
            new_segments += now - seen;
            seen = now;
            async move { if new_segments >= 2 { Ok(()) } else { Err(new_segments) } }
        })
        .await;
        stop.store(true, Ordering::Relaxed);
        checkpoint
    };
    let (acked, checkpoint) = futures_util::future::join(shoppers, watcher).await;
    binary.kill_9();
    let acked: BTreeMap<String, Acked> = acked.into_iter().flatten().collect();
    let covered: Vec<_> = acked.iter().filter(|(_, a)| a.paid.unwrap_or(a.reserved) < checkpoint).collect();
    assert!(covered.len() > 10, "too few sales before the checkpoint: {}", covered.len());

    std::fs::remove_dir_all(&home.data_dir).expect("the data dir is deleted");
    let restored = std::process::Command::new(env!("CARGO_BIN_EXE_qskip"))
        .args(["restore", "--from"])
        .arg(&file)
        .arg("--archive")
        .arg(&archive)
        .arg("--data-dir")
        .arg(&home.data_dir)
        .output()
        .expect("qskip restore runs");
    let said = String::from_utf8_lossy(&restored.stderr);
    assert!(restored.status.success(), "restore failed: {said}");
    let records: u64 = said.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("restored N records");
    assert_eq!(records, archived_through(&archive), "every archived record is restored: {said}");

    let binary = home.start();
    for (id, ack) in covered {
        let status = binary.reservation(id).await.status;
        let expected = if ack.paid.is_some() { "confirmed" } else { "held" };
        assert_eq!(status, expected, "{id}");
    }
}

#[actix_web::test]
async fn a_service_whose_archive_is_ahead_of_its_log_refuses_to_start() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = spawn_app_with(sales_app_options()).await;
    created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).expect("created");
    let end = app.services.log().last_seq().expect("readable");
    write_segment(app.services.log(), &archive, 1, end).expect("written");

    // A fresh data dir (a restore without --archive, say) would reuse those positions.
    let fresh = dir.path().join("fresh");
    let mut config = app.config.clone().in_dir(&fresh);
    config.archive = Some(ArchiveSpec { dir: archive.clone(), every_secs: None, every_records: None });
    let config = Config::from_toml(&config.to_toml(), Path::new("fresh.toml")).expect("the config is valid");
    let refused = Application::build(config, Arc::new(ManualClock::new(app.now()))).await;
    let error = format!("{:#}", refused.err().expect("the service refuses to start"));
    assert!(error.contains(&format!("holds records up to {end} but the log ends at 0")), "{error}");
}
