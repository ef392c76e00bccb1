//! Reading a range of the log in commit order, with sled's iteration and the decoding
//! of each record on a helper thread, one chunk ahead of the caller.
//!
//! Replay and start-up recovery read every record once and fold it. Profiled on a 1M
//! record log, reading (sled's iteration paging nodes in from disk, then checksum and
//! postcard) costs about twice the fold, and the two are independent: so reader threads
//! decode chunks of records while the caller folds earlier chunks. With one reader the
//! reader was the bottleneck (56% of the samples against the fold's 43%), so two take
//! turns, each reading its own chunks through its own sled range. Channels are bounded,
//! so readers are never more than a few chunks ahead (memory stays small), and records
//! arrive in exactly the order one plain iteration gives. Short ranges (a start-up
//! tail) are read on the caller's thread: threads would cost more than they save.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};

use super::record::Record;
use super::{StoreError, codec, keys};
use crate::limits::{LOG_READ_AHEAD_CHUNK_RECORDS, LOG_READ_AHEAD_CHUNKS_QUEUED, LOG_READ_AHEAD_THREADS};

/// One record of the log, decoded, or why it could not be read.
pub type LogEntry = Result<(u64, DateTime<Utc>, Record), StoreError>;

/// Ranges up to this many records are read on the caller's thread.
const INLINE_RECORDS_MAX: u64 = 4 * LOG_READ_AHEAD_CHUNK_RECORDS;

/// The iterator [`super::EventLog::iter_range`] returns.
pub struct ReadAhead {
    source: Source,
}

enum Source {
    Inline(sled::Iter),
    Threads(Readers),
}

/// Reader threads taking turns: chunk `k` (seqs `from + k * CHUNK ..`) is read by
/// reader `k % readers`, so taking one chunk from each reader in turn yields the
/// records in commit order.
struct Readers {
    /// Emptied on drop, so every reader sees the hang-up before it is joined.
    chunks: Vec<Receiver<Vec<LogEntry>>>,
    handles: Vec<JoinHandle<()>>,
    /// The chunk being handed out, and the number of the next one.
    current: std::vec::IntoIter<LogEntry>,
    next_chunk: u64,
    chunk_count: u64,
}

impl ReadAhead {
    /// Reads the records with seq in `[from, through]` of `db`. `through` must be at
    /// most the log's last seq (chunks are cut in advance) unless `bounded` is false:
    /// then the range is read on the caller's thread.
    pub(super) fn new(db: &sled::Db, from: u64, through: u64, bounded: bool) -> Self {
        let inline = || Self { source: Source::Inline(db.range(keys::log(from)..=keys::log(through))) };
        if !bounded || through < from || through - from < INLINE_RECORDS_MAX {
            return inline();
        }
        match Readers::spawn(db, from, through) {
            Ok(readers) => Self { source: Source::Threads(readers) },
            // Out of threads: read on the caller's thread, only slower.
            Err(_) => inline(),
        }
    }
}

impl Readers {
    fn spawn(db: &sled::Db, from: u64, through: u64) -> std::io::Result<Self> {
        let (threads, size) = (LOG_READ_AHEAD_THREADS, LOG_READ_AHEAD_CHUNK_RECORDS);
        let chunk_count = (through - from) / size + 1;
        let mut readers = Self {
            chunks: Vec::new(),
            handles: Vec::new(),
            current: Vec::new().into_iter(),
            next_chunk: 0,
            chunk_count,
        };
        for reader in 0..threads.min(chunk_count) {
            let (sender, chunks) = sync_channel(LOG_READ_AHEAD_CHUNKS_QUEUED);
            let db = db.clone();
            let mine = (reader..chunk_count).step_by(threads as usize);
            let ranges = mine.map(move |k| {
                let first = from + k * size;
                (first, through.min(first + (size - 1)))
            });
            let name = format!("qskip-log-reader-{reader}");
            // On failure `readers` drops here, which stops and joins the ones started.
            readers.handles.push(std::thread::Builder::new().name(name).spawn(move || read(&db, ranges, &sender))?);
            readers.chunks.push(chunks);
        }
        Ok(readers)
    }

    fn next(&mut self) -> Option<LogEntry> {
        loop {
            if let Some(entry) = self.current.next() {
                return Some(entry);
            }
            if self.next_chunk == self.chunk_count {
                return None;
            }
            let reader = (self.next_chunk % self.chunks.len() as u64) as usize;
            self.next_chunk += 1;
            // A reader gone before its last chunk has panicked: `drop` re-raises it.
            self.current = self.chunks[reader].recv().ok()?.into_iter();
        }
    }
}

/// A reader thread: reads and decodes its chunks in order until they are done or the
/// caller hangs up.
fn read(db: &sled::Db, ranges: impl Iterator<Item = (u64, u64)>, sender: &SyncSender<Vec<LogEntry>>) {
    for (first, last) in ranges {
        let chunk: Vec<LogEntry> = db.range(keys::log(first)..=keys::log(last)).map(decode).collect();
        if sender.send(chunk).is_err() {
            return;
        }
    }
}

fn decode(entry: sled::Result<(sled::IVec, sled::IVec)>) -> LogEntry {
    let (key, bytes) = entry?;
    let seq = keys::log_seq(&key).expect("every L key is 9 bytes");
    let (at, record) = codec::decode(&bytes).map_err(|source| StoreError::Corrupt { seq, source })?;
    Ok((seq, at, record))
}

impl Iterator for ReadAhead {
    type Item = LogEntry;

    fn next(&mut self) -> Option<LogEntry> {
        match &mut self.source {
            Source::Inline(range) => range.next().map(decode),
            Source::Threads(readers) => readers.next(),
        }
    }
}

impl Drop for Readers {
    /// Stops the readers (each notices the hang-up at its next chunk) and waits for
    /// them, so no thread keeps the database open after the caller is done with it.
    fn drop(&mut self) {
        self.chunks.clear();
        for handle in self.handles.drain(..) {
            if let Err(panic) = handle.join()
                && !std::thread::panicking()
            {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{VenueId, WindowEvent, WindowKey};
    use crate::store::EventLog;

    /// A log of `count` records (each opens its own window) with the record at
    /// `corrupt` made unreadable, as a flipped byte on disk would.
    fn log_with_corrupt_record(dir: &std::path::Path, count: u64, corrupt: u64) -> EventLog {
        let log = EventLog::open(dir).expect("open");
        let venue = VenueId::parse("v").expect("valid id");
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("valid instant");
        let records: Vec<_> = (0..count)
            .map(|n| {
                let key = WindowKey::new(venue.clone(), at + chrono::Duration::minutes(15 * n as i64));
                (at, Record::Window(key, WindowEvent::WindowOpened { capacity: 1 }))
            })
            .collect();
        log.write_batch(1, &records).expect("write");
        let mut bytes = log.db.get(keys::log(corrupt)).expect("read").expect("present").to_vec();
        bytes[3] ^= 0xff;
        log.db.insert(keys::log(corrupt), bytes).expect("corrupt");
        log
    }

    fn seqs(entries: impl Iterator<Item = LogEntry>) -> Vec<Result<u64, u64>> {
        entries
            .map(|entry| match entry {
                Ok((seq, _, _)) => Ok(seq),
                Err(StoreError::Corrupt { seq, .. }) => Err(seq),
                Err(other) => panic!("unexpected error {other}"),
            })
            .collect()
    }

    #[test]
    fn reader_threads_yield_what_one_iteration_yields_in_commit_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let count = INLINE_RECORDS_MAX + 3 * LOG_READ_AHEAD_CHUNK_RECORDS + 17;
        let log = log_with_corrupt_record(dir.path(), count, 9_000);
        let threaded = ReadAhead::new(&log.db, 2, count, true);
        assert!(matches!(threaded.source, Source::Threads(_)), "a long range is read ahead");
        let inline = ReadAhead::new(&log.db, 2, count, false);
        assert!(matches!(inline.source, Source::Inline(_)));
        let expected: Vec<_> = (2..=count).map(|seq| if seq == 9_000 { Err(seq) } else { Ok(seq) }).collect();
        assert_eq!(seqs(threaded), expected, "threads: every record once, in order, the corrupt one named");
        assert_eq!(seqs(inline), expected);
        assert_eq!(seqs(log.iter()).len() as u64, count, "iter reads the whole log");
    }

    #[test]
    fn dropping_a_read_ahead_early_stops_its_threads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let count = INLINE_RECORDS_MAX + 5 * LOG_READ_AHEAD_CHUNK_RECORDS;
        let log = log_with_corrupt_record(dir.path(), count, 1);
        let mut entries = log.iter();
        assert!(matches!(entries.next(), Some(Err(StoreError::Corrupt { seq: 1, .. }))));
        assert!(matches!(entries.next(), Some(Ok((2, _, _)))));
        drop(entries);
        // The readers are joined: the database can be closed and opened again.
        drop(log);
        let reopened = EventLog::open(dir.path()).expect("no reader thread holds the database");
        assert_eq!(reopened.last_seq().expect("last seq"), count);
    }
}
