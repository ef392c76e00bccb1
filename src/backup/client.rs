//! `qskip backup`: from a running service through the admin API (`POST
//! /v1/admin/backup`), or from the data dir of a stopped one. Either way the file is
//! written under a temporary name, read back and checked (every checksum, the trailer),
//! fsynced and only then renamed to its name: a file with the name is a whole backup.

use std::io::Write;
use std::path::Path;

use super::BackupError;
use super::atomic::AtomicFile;
use super::format::Header;
use super::pace::Pace;
use super::read::check_file;
use super::write::{backup_header, write_range};
use crate::store::EventLog;

/// Backs up the data dir of a stopped service (a running one holds its lock).
pub fn backup_data_dir(data_dir: &Path, to: &Path) -> Result<Header, BackupError> {
    if !data_dir.join("db").is_file() {
        let message = format!("{} holds no qskip data (no sled database)", data_dir.display());
        return Err(BackupError::Remote(message));
    }
    let log = EventLog::open(data_dir)?;
    let header = backup_header(&log, log.last_seq()?, chrono::Utc::now().timestamp_micros(), &mut Pace::unlimited())?;
    let mut file = AtomicFile::create(to)?;
    write_range(&log, &header, file.writer(), &mut Pace::unlimited())?;
    file.writer().flush()?;
    check_file(file.tmp_path())?;
    file.commit()?;
    Ok(header)
}

/// Asks the service at `url` for a backup and writes it to `to`.
pub async fn backup_remote(url: &str, token: &str, to: &Path) -> Result<Header, BackupError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build().map_err(|e| BackupError::Remote(e.to_string()))?;
    let endpoint = format!("{}/v1/admin/backup", url.trim_end_matches('/'));
    let unreachable = |e: reqwest::Error| BackupError::Remote(format!("cannot reach {endpoint}: {e}"));
    let mut response = client.post(&endpoint).bearer_auth(token).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or(body);
        return Err(BackupError::Remote(format!("the service refused the backup ({status}): {message}")));
    }
    let mut file = AtomicFile::create(to)?;
    let broken = |e: reqwest::Error| BackupError::Remote(format!("the backup stream broke off: {e}"));
    while let Some(chunk) = response.chunk().await.map_err(broken)? {
        file.writer().write_all(&chunk)?;
    }
    file.writer().flush()?;
    let header = check_file(file.tmp_path())?;
    file.commit()?;
    Ok(header)
}
