//! Building a new data dir from a backup plus archived records, and `verify`.
//!
//! Everything is written into a temporary directory beside the target and renamed into
//! place only once every checksum, the trailer of every file and the header's state
//! digest have been checked: a refused file leaves nothing behind. Records keep their
//! exact stored bytes; every index is rebuilt from them (`EventLog::write_raw_batch`).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::BackupError;
use super::archive::{Segment, segments};
use super::format::Header;
use super::read::BackupReader;
use crate::limits::RESTORE_BATCH_RECORDS;
use crate::replay::digest_through;
use crate::store::{EventLog, StoreError};

/// What a restore (or a verification) found.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's header; its digest was checked.
    pub header: Header,
    /// Archive segments applied after the backup.
    pub segments: usize,
    /// The position the new log ends at.
    pub last_seq: u64,
}

/// Restores `from` (plus the segments in `archive` that follow it) into `target`,
/// which must not exist or be empty.
pub fn restore(from: &Path, archive: Option<&Path>, target: &Path) -> Result<Restored, BackupError> {
    refuse_non_empty(target)?;
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("data");
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let tmp = parent.join(format!(".{name}.restoring-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    match build(from, archive, &tmp) {
        Ok(restored) => {
            if target.exists() {
                std::fs::remove_dir(target)?;
            }
            std::fs::rename(&tmp, target)?;
            super::atomic::sync_dir(target)?;
            Ok(restored)
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(error)
        }
    }
}

/// Checks `from` (and `archive`) exactly as a restore would, in a scratch directory
/// that is removed afterwards.
pub fn verify(from: &Path, archive: Option<&Path>) -> Result<Restored, BackupError> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let scratch = std::env::temp_dir().join(format!("qskip-verify-{}-{nanos}", std::process::id()));
    let outcome = build(from, archive, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

fn refuse_non_empty(target: &Path) -> Result<(), BackupError> {
    match std::fs::read_dir(target) {
        Ok(mut entries) => match entries.next() {
            Some(_) => Err(BackupError::TargetNotEmpty(target.to_owned())),
            None => Ok(()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(BackupError::TargetNotEmpty(target.into())),
        Err(e) => Err(e.into()),
    }
}

fn build(from: &Path, archive: Option<&Path>, dir: &Path) -> Result<Restored, BackupError> {
    let log = EventLog::open(dir)?;
    let mut reader = BackupReader::open(BufReader::with_capacity(1 << 16, File::open(from)?))?;
    let header = reader.header().clone();
    if header.first_seq != 1 {
        let message = format!("it holds records from {} on: an archive segment, not a backup", header.first_seq);
        return Err(BackupError::Header(message));
    }
    let Some(stated) = header.digest.clone() else {
        return Err(BackupError::Header("it states no state digest".into()));
    };
    copy_records(&log, &mut reader, 0)?;
    log.make_durable(true)?;
    let (computed, _) = digest_through(&log, header.last_seq)?;
    if computed != stated {
        return Err(BackupError::Digest { stated, computed });
    }
    let mut last_seq = header.last_seq;
    let mut applied = 0;
    if let Some(archive) = archive {
        for segment in segments(archive)? {
            if segment.last_seq <= last_seq {
                continue;
            }
            last_seq = apply_segment(&log, &segment, last_seq)?;
            applied += 1;
        }
        log.make_durable(true)?;
    }
    Ok(Restored { header, segments: applied, last_seq })
}

/// Writes the reader's records after `skip_through` into `log`, in batches; returns the
/// last seq read. Records at or before `skip_through` must equal what the log holds.
fn copy_records<R: Read>(log: &EventLog, reader: &mut BackupReader<R>, skip_through: u64) -> Result<u64, BackupError> {
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(RESTORE_BATCH_RECORDS);
    let mut batch_first = skip_through + 1;
    let mut last = skip_through;
    while let Some((seq, bytes)) = reader.next_record()? {
        last = seq;
        if seq <= skip_through {
            let held = log.raw_range(seq, seq).next().transpose()?;
            if held.as_ref().map(|(_, b)| b.as_ref()) != Some(bytes.as_slice()) {
                let message = format!("the archive disagrees with the log at record {seq}: it is from another service");
                return Err(BackupError::Archive(message));
            }
            continue;
        }
        batch.push(bytes);
        if batch.len() == RESTORE_BATCH_RECORDS {
            write_batch(log, batch_first, &batch)?;
            batch_first += batch.len() as u64;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        write_batch(log, batch_first, &batch)?;
    }
    Ok(last)
}

/// Writes a batch, naming a record that does not decode as the file's fault.
fn write_batch(log: &EventLog, first_seq: u64, batch: &[Vec<u8>]) -> Result<(), BackupError> {
    log.write_raw_batch(first_seq, batch).map_err(|e| match e {
        StoreError::Corrupt { seq, source } => BackupError::Record { seq, source },
        other => other.into(),
    })
}

/// Applies one archive segment that starts at or before `last_seq + 1`.
fn apply_segment(log: &EventLog, segment: &Segment, last_seq: u64) -> Result<u64, BackupError> {
    let what = segment.path.display();
    if segment.first_seq > last_seq + 1 {
        let message = format!(
            "the archive lacks records {}..={}: the next segment, {what}, starts later; restore without --archive, \
             or find the missing segment",
            last_seq + 1,
            segment.first_seq - 1
        );
        return Err(BackupError::Archive(message));
    }
    let file = File::open(&segment.path)?;
    let mut reader = BackupReader::open(BufReader::with_capacity(1 << 16, file))
        .map_err(|e| BackupError::Archive(format!("archive segment {what}: {e}")))?;
    let header = reader.header();
    if (header.first_seq, header.last_seq) != (segment.first_seq, segment.last_seq) {
        let message = format!("archive segment {what} holds records {}..={}", header.first_seq, header.last_seq);
        return Err(BackupError::Archive(message));
    }
    copy_records(log, &mut reader, last_seq).map_err(|e| match e {
        BackupError::Archive(_) | BackupError::Store(_) => e,
        other => BackupError::Archive(format!("archive segment {what}: {other}")),
    })
}
