//! The event log in sled: opening it (one process only), appending a batch atomically,
//! making it durable, and reading it back by window, by index or in commit order.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::codec::{self, DecodeError, Encoded};
use super::fault::WriteFaults;
use super::keys;
use super::read_ahead::ReadAhead;
use super::record::{IdempotencyEntry, Record};
use crate::domain::{RefundFailure, RefundReason, ReservationId, Venue, VenueId, WindowEvent, WindowKey};
use crate::limits::{RECORD_BYTES_MAX, SLED_CACHE_BYTES};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "data dir {0} is in use by another qskip process (sled holds a lock on it); stop that process or use another data dir"
    )]
    Locked(PathBuf),
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("I/O error on the data dir: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt record at seq {seq}: {source}")]
    Corrupt { seq: u64, source: DecodeError },
    #[error("index points at seq {seq}, which is missing or not the expected kind of record")]
    DanglingIndex { seq: u64 },
    #[error(transparent)]
    RecordTooLarge(#[from] codec::RecordTooLarge),
}

/// A refund the log says is owed and not yet settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedRefund {
    pub window: WindowKey,
    pub reservation_id: ReservationId,
    pub payment_intent: String,
    /// What the payment took (the debt), when the provider reported it.
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub reason: RefundReason,
    pub owed_at: DateTime<Utc>,
    /// Set when the worker gave up on it (`RefundFailed`) and an operator must act.
    pub failure: Option<RefundFailure>,
}

/// An open event log. Cheap to clone; every clone shares one sled database.
#[derive(Clone)]
pub struct EventLog {
    pub(super) db: sled::Db,
    /// sled's data file, fdatasynced after each flush: sled's own flush ends with
    /// `sync_file_range`, which survives a crash of the process but not of the machine.
    data_file: std::sync::Arc<File>,
    dir: PathBuf,
    faults: WriteFaults,
}

impl EventLog {
    /// Opens (or creates) the log in `dir`. A second opener gets [`StoreError::Locked`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        let config = sled::Config::new().path(dir).cache_capacity(SLED_CACHE_BYTES).mode(sled::Mode::HighThroughput);
        let db = config.open().map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(dir.to_owned())
            }
            other => StoreError::Sled(other),
        })?;
        let data_file = std::sync::Arc::new(File::open(dir.join("db"))?);
        Ok(Self { db, data_file, dir: dir.to_owned(), faults: WriteFaults::default() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The test seam that makes writes fail or stall (see `store::fault`).
    pub fn faults(&self) -> &WriteFaults {
        &self.faults
    }

    /// The seq of the last record, 0 when the log is empty (seqs start at 1).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let last = self.db.scan_prefix([keys::LOG]).keys().next_back().transpose()?;
        Ok(last.and_then(|k| keys::log_seq(&k)).unwrap_or(0))
    }

    /// Writes `records` as seqs `first_seq..`, with their index entries, atomically.
    /// Not durable until [`EventLog::make_durable`] returns.
    pub fn write_batch(&self, first_seq: u64, records: &[(DateTime<Utc>, Record)]) -> Result<(), StoreError> {
        // A direct writer gets an error, never a record that readers would refuse.
        let encoded: Result<Vec<_>, _> = records.iter().map(|(at, record)| Encoded::new(*at, record.clone())).collect();
        self.write_encoded(first_seq, &encoded?)
    }

    /// [`EventLog::write_batch`] of records already encoded (and so already measured
    /// against `RECORD_BYTES_MAX`): the journal's path.
    pub fn write_encoded(&self, first_seq: u64, records: &[Encoded]) -> Result<(), StoreError> {
        self.faults.before_write()?;
        let mut batch = sled::Batch::default();
        for (offset, encoded) in records.iter().enumerate() {
            let seq = first_seq + offset as u64;
            debug_assert!(encoded.bytes.len() <= RECORD_BYTES_MAX, "Encoded::new measured every record");
            batch.insert(&keys::log(seq)[..], &encoded.bytes[..]);
            for op in keys::index_entries(seq, &encoded.record) {
                match op {
                    keys::IndexOp::Insert(key, value) => batch.insert(key, value),
                    keys::IndexOp::Remove(key) => batch.remove(key),
                }
            }
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// Flushes sled, then fdatasyncs its data file: afterwards the batch survives
    /// kill -9 and power loss.
    pub fn make_durable(&self, sync_data: bool) -> Result<(), StoreError> {
        self.db.flush()?;
        if sync_data {
            self.data_file.sync_data()?;
        }
        Ok(())
    }

    /// The CRC-32C stored with the record at `seq` (its last 4 bytes), if it exists:
    /// what a snapshot ending at `seq` records to prove it belongs to this log.
    pub fn record_crc(&self, seq: u64) -> Result<Option<u32>, StoreError> {
        let Some(bytes) = self.db.get(keys::log(seq))? else { return Ok(None) };
        let tail = bytes.len().checked_sub(super::frame::CRC_BYTES).map(|at| &bytes[at..]);
        Ok(tail.and_then(|t| t.try_into().ok()).map(u32::from_le_bytes))
    }

    /// The record at `seq`, decoded.
    pub fn read(&self, seq: u64) -> Result<Option<(DateTime<Utc>, Record)>, StoreError> {
        let Some(bytes) = self.db.get(keys::log(seq))? else { return Ok(None) };
        codec::decode(&bytes).map(Some).map_err(|source| StoreError::Corrupt { seq, source })
    }

    fn seqs_under(&self, prefix: &[u8]) -> impl Iterator<Item = Result<u64, StoreError>> + use<> {
        self.db.scan_prefix(prefix).keys().map(|k| Ok(keys::trailing_seq(&k?)))
    }

    /// Every event of one window in commit order: a prefix scan of its own index.
    pub fn window_events(&self, window: &WindowKey) -> Result<Vec<WindowEvent>, StoreError> {
        let mut events = Vec::new();
        for seq in self.seqs_under(&keys::window_prefix(window)) {
            let seq = seq?;
            match self.read(seq)? {
                Some((_, Record::Window(key, event))) if &key == window => events.push(event),
                _ => return Err(StoreError::DanglingIndex { seq }),
            }
        }
        Ok(events)
    }

    /// The window's events with seq <= `through`, with their seqs: the window as it was
    /// right after record `through` (its index also lists later records).
    pub fn window_events_through(
        &self,
        window: &WindowKey,
        through: u64,
    ) -> Result<Vec<(u64, WindowEvent)>, StoreError> {
        let mut events = Vec::new();
        for seq in self.seqs_under(&keys::window_prefix(window)) {
            let seq = seq?;
            if seq > through {
                break;
            }
            match self.read(seq)? {
                Some((_, Record::Window(key, event))) if &key == window => events.push((seq, event)),
                _ => return Err(StoreError::DanglingIndex { seq }),
            }
        }
        Ok(events)
    }

    /// True when the window has at least one event.
    pub fn window_exists(&self, window: &WindowKey) -> Result<bool, StoreError> {
        Ok(self.db.scan_prefix(keys::window_prefix(window)).next().transpose()?.is_some())
    }

    /// Starts of the venue's windows that start at or after `since` and have events:
    /// one range scan of the window index, proportional to those windows' events.
    pub fn window_starts_since(&self, venue: &VenueId, since: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let prefix = keys::venue_windows_prefix(venue);
        let mut starts: Vec<DateTime<Utc>> = Vec::new();
        for key in self.db.range(keys::venue_windows_from(venue, since)..).keys() {
            let key = key?;
            if !key.starts_with(&prefix) {
                break;
            }
            let micros = keys::window_start_micros(&key, prefix.len());
            let start = DateTime::from_timestamp_micros(micros)
                .ok_or(StoreError::DanglingIndex { seq: keys::trailing_seq(&key) })?;
            if starts.last() != Some(&start) {
                starts.push(start);
            }
        }
        Ok(starts)
    }

    /// Every registered venue, in its latest registered form.
    pub fn venues(&self) -> Result<Vec<Venue>, StoreError> {
        let mut venues: Vec<Venue> = Vec::new();
        for (_, venue) in self.venue_history()? {
            venues.retain(|v| v.id != venue.id);
            venues.push(venue);
        }
        Ok(venues)
    }

    /// Every definition every venue ever had, with when it was recorded: grouped by
    /// venue, oldest first within a venue. Venue events are few, so this is cheap.
    pub fn venue_history(&self) -> Result<Vec<(DateTime<Utc>, Venue)>, StoreError> {
        let mut history = Vec::new();
        for seq in self.seqs_under(&[keys::VENUE]) {
            let seq = seq?;
            let Some((recorded_at, Record::Venue(event))) = self.read(seq)? else {
                return Err(StoreError::DanglingIndex { seq });
            };
            history.push((recorded_at, event.venue().clone()));
        }
        Ok(history)
    }

    /// The window a reservation belongs to, if the reservation exists.
    pub fn reservation_window(&self, id: &ReservationId) -> Result<Option<WindowKey>, StoreError> {
        let Some(seq) = self.db.get(keys::reservation(id))? else { return Ok(None) };
        let seq = u64::from_be_bytes(seq.as_ref().try_into().map_err(|_| StoreError::DanglingIndex { seq: 0 })?);
        match self.read(seq)? {
            Some((_, Record::Window(key, WindowEvent::HoldPlaced { .. } | WindowEvent::WaitlistJoined { .. }))) => {
                Ok(Some(key))
            }
            _ => Err(StoreError::DanglingIndex { seq }),
        }
    }

    /// The recorded answer to a keyed create request at `venue`, if any. Keys are
    /// scoped by venue; an entry of the older unscoped index counts only if its record
    /// names this venue and key.
    pub fn idempotency(&self, venue: &VenueId, key: &str) -> Result<Option<IdempotencyEntry>, StoreError> {
        if let Some(entry) = self.idempotency_at(&keys::idempotency(venue, key))? {
            return Ok(Some(entry));
        }
        let legacy = self.idempotency_at(&keys::idempotency_unscoped(key))?;
        Ok(legacy.filter(|entry| &entry.venue_id == venue && entry.key == key))
    }

    fn idempotency_at(&self, index_key: &[u8]) -> Result<Option<IdempotencyEntry>, StoreError> {
        let Some(seq) = self.db.get(index_key)? else { return Ok(None) };
        let seq = u64::from_be_bytes(seq.as_ref().try_into().map_err(|_| StoreError::DanglingIndex { seq: 0 })?);
        match self.read(seq)? {
            Some((_, Record::Idempotency(entry))) => Ok(Some(entry)),
            _ => Err(StoreError::DanglingIndex { seq }),
        }
    }

    /// Every refund still owed (not settled yet), failed ones marked: a scan of the `O`
    /// index, proportional to the debts alone.
    pub fn owed_refunds(&self) -> Result<Vec<OwedRefund>, StoreError> {
        let mut owed = Vec::new();
        for entry in self.db.scan_prefix([keys::REFUND_OWED]) {
            let (_, seq) = entry?;
            let seq = index_seq(&seq)?;
            let Some((_, Record::Window(window, event))) = self.read(seq)? else {
                return Err(StoreError::DanglingIndex { seq });
            };
            let WindowEvent::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, owed_at } =
                event
            else {
                return Err(StoreError::DanglingIndex { seq });
            };
            let failure = self.refund_failure(&reservation_id, &payment_intent)?;
            owed.push(OwedRefund {
                window,
                reservation_id,
                payment_intent,
                amount_minor,
                currency,
                reason,
                owed_at,
                failure,
            });
        }
        Ok(owed)
    }

    /// Why the worker gave up on an owed refund, if it did (the `F` index).
    fn refund_failure(&self, id: &ReservationId, intent: &str) -> Result<Option<RefundFailure>, StoreError> {
        let Some(seq) = self.db.get(keys::refund_failed(id, intent))? else { return Ok(None) };
        let seq = index_seq(&seq)?;
        match self.read(seq)? {
            Some((_, Record::Window(_, WindowEvent::RefundFailed { attempts, error, failed_at, .. }))) => {
                Ok(Some(RefundFailure { attempts, error, failed_at }))
            }
            _ => Err(StoreError::DanglingIndex { seq }),
        }
    }

    /// Every reservation whose checkout page is still open: (window, reservation).
    pub fn open_checkouts(&self) -> Result<Vec<(WindowKey, ReservationId)>, StoreError> {
        let mut open = Vec::new();
        for entry in self.db.scan_prefix([keys::CHECKOUT_OPEN]) {
            let (_, seq) = entry?;
            let seq = u64::from_be_bytes(seq.as_ref().try_into().map_err(|_| StoreError::DanglingIndex { seq: 0 })?);
            match self.read(seq)? {
                Some((_, Record::Window(window, WindowEvent::CheckoutOpened { reservation_id, .. }))) => {
                    open.push((window, reservation_id));
                }
                _ => return Err(StoreError::DanglingIndex { seq }),
            }
        }
        Ok(open)
    }

    /// All records in commit order, as (seq, commit time, record).
    pub fn iter(&self) -> ReadAhead {
        self.iter_range(1, u64::MAX)
    }

    /// The records with seq in `[from, through]`, in commit order; long ranges are
    /// read and decoded ahead on a helper thread (see `store::read_ahead`).
    pub fn iter_range(&self, from: u64, through: u64) -> ReadAhead {
        // A failing read of the end leaves `through` as given: the range then reads
        // on the caller's thread and meets the error there.
        let end = self.last_seq().ok();
        ReadAhead::new(&self.db, from, end.map_or(through, |end| through.min(end)), end.is_some())
    }
}

/// The seq an index entry points at.
fn index_seq(value: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(value.try_into().map_err(|_| StoreError::DanglingIndex { seq: 0 })?))
}
