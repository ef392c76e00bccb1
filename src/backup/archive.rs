//! Continuous archiving: every `every_secs` seconds or `every_records` records, the
//! records made durable since the last segment are written to the archive directory as
//! one segment file (backup format, no digest), named by the positions it covers,
//! written atomically and fsynced. A lost disk then costs at most one interval (the
//! recovery point objective); `qskip restore --archive DIR` applies the segments.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::BackupError;
use super::atomic::AtomicFile;
use super::cut::durable_cut;
use super::format::Header;
use super::pace::Pace;
use super::write::write_range;
use crate::config::ArchiveConfig;
use crate::limits::ARCHIVE_POLL_INTERVAL_MS;
use crate::store::{EventLog, Journal};

/// Extension of segment files.
const SEGMENT_EXT: &str = "qsarch";

/// One segment file, as its name states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub first_seq: u64,
    pub last_seq: u64,
    pub path: PathBuf,
}

/// `<first>-<last>.qsarch`, zero-padded so names sort by position.
pub fn segment_name(first_seq: u64, last_seq: u64) -> String {
    format!("{first_seq:020}-{last_seq:020}.{SEGMENT_EXT}")
}

/// The segments in `dir`, by first position; other files (temporaries) are ignored.
pub fn segments(dir: &Path) -> Result<Vec<Segment>, BackupError> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| BackupError::Archive(format!("cannot read the archive dir {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(stem) = name.strip_suffix(&format!(".{SEGMENT_EXT}")) else { continue };
        let Some((first, last)) = stem.split_once('-') else { continue };
        if let (Ok(first_seq), Ok(last_seq)) = (first.parse(), last.parse()) {
            found.push(Segment { first_seq, last_seq, path });
        }
    }
    found.sort_by_key(|s| (s.first_seq, s.last_seq));
    Ok(found)
}

/// Writes records `first_seq..=last_seq` of `log` as a segment in `dir`.
pub fn write_segment(log: &EventLog, dir: &Path, first_seq: u64, last_seq: u64) -> Result<PathBuf, BackupError> {
    let path = dir.join(segment_name(first_seq, last_seq));
    let header = Header::new(first_seq, last_seq, chrono::Utc::now().timestamp_micros(), None);
    let mut file = AtomicFile::create(&path)?;
    // Segments are written while the service sells: paced like a backup.
    write_range(log, &header, file.writer(), &mut Pace::for_live_service())?;
    file.commit()?;
    Ok(path)
}

/// The running archiver task; [`Archiver::stop`] writes a last segment and ends it.
pub struct Archiver {
    stop: watch::Sender<bool>,
    task: actix_web::rt::task::JoinHandle<()>,
    log: EventLog,
    dir: PathBuf,
}

impl Archiver {
    /// Checks the archive against the log and starts the task (on the current actix
    /// system). An archive ahead of the log is refused: new records would reuse its
    /// positions with other contents.
    pub fn start(log: EventLog, journal: Journal, settings: ArchiveConfig) -> Result<Self, BackupError> {
        std::fs::create_dir_all(&settings.dir)?;
        let archived = segments(&settings.dir)?.iter().map(|s| s.last_seq).max().unwrap_or(0);
        let log_end = log.last_seq()?;
        if archived > log_end {
            return Err(BackupError::Archive(format!(
                "the archive dir {} holds records up to {archived} but the log ends at {log_end}: restore this data \
                 dir with `qskip restore --archive`, or point [archive] dir at a new directory",
                settings.dir.display()
            )));
        }
        let (stop, stopped) = watch::channel(false);
        let dir = settings.dir.clone();
        let task = actix_web::rt::spawn(run(log.clone(), journal, settings, archived, stopped));
        Ok(Self { stop, task, log, dir })
    }

    /// Ends the task once its current segment is written; then, on a graceful stop,
    /// archives what is left (call after the journal has stopped, so everything in the
    /// log is durable; after a journal failure the log is not trusted, so not then).
    pub async fn stop(self, graceful: bool) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if !graceful {
            return;
        }
        let (log, dir) = (&self.log, self.dir.as_path());
        let archived = segments(dir).map(|s| s.iter().map(|s| s.last_seq).max().unwrap_or(0));
        let outcome = archived.and_then(|from| match log.last_seq()? {
            end if end > from => write_segment(log, dir, from + 1, end).map(Some),
            _ => Ok(None),
        });
        if let Err(error) = outcome {
            tracing::error!(%error, "the last archive segment could not be written");
        }
    }
}

async fn run(
    log: EventLog,
    journal: Journal,
    settings: ArchiveConfig,
    mut archived: u64,
    mut stop: watch::Receiver<bool>,
) {
    let every = Duration::from_secs(settings.every_secs);
    let mut last_write = Instant::now();
    let poll = Duration::from_millis(ARCHIVE_POLL_INTERVAL_MS);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(poll) => {}
        }
        let end = match log.last_seq() {
            Ok(end) => end,
            Err(error) => {
                tracing::error!(%error, "archiver cannot read the log");
                continue;
            }
        };
        let due = end > archived && (end - archived >= settings.every_records || last_write.elapsed() >= every);
        if !due {
            continue;
        }
        match archive_once(&log, &journal, &settings.dir, archived).await {
            Ok(through) => {
                tracing::info!(from = archived + 1, through, "archived records");
                archived = through;
                last_write = Instant::now();
            }
            Err(error) => {
                tracing::error!(%error, "archiving failed; retrying at the next interval");
                last_write = Instant::now();
            }
        }
    }
}

/// Writes one segment of everything durable after `archived`; returns its last seq.
async fn archive_once(log: &EventLog, journal: &Journal, dir: &Path, archived: u64) -> Result<u64, BackupError> {
    let cut = durable_cut(log, journal).await?;
    let (log, dir) = (log.clone(), dir.to_owned());
    actix_web::rt::task::spawn_blocking(move || write_segment(&log, &dir, archived + 1, cut))
        .await
        .map_err(|e| BackupError::Archive(format!("the archive writer panicked: {e}")))??;
    Ok(cut)
}
