//! Bytes of one stored record: `postcard(StoredRecord) ++ crc32c(payload) (4 bytes LE)`.
//!
//! The first byte of the payload is the version tag (postcard's varint variant index of
//! [`StoredRecord`]). The CRC detects torn or flipped bytes; decoding also rejects
//! trailing bytes, which postcard would otherwise accept silently.

use chrono::{DateTime, Utc};

use super::convert::{self, InvalidRecord};
use super::record::Record;
use super::wire::StoredRecord;
use crate::limits::RECORD_BYTES_MAX;

use super::frame::{self, CRC_BYTES, FrameError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record is {0} bytes, too short to hold a checksum")]
    TooShort(usize),
    /// Torn or flipped bytes, an unknown version, or trailing garbage.
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Invalid(#[from] InvalidRecord),
}

/// A record whose encoding would exceed `RECORD_BYTES_MAX`: the command that produced
/// it is refused (never written, never applied); it is not a failure of the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a record of {bytes} bytes exceeds the limit of {RECORD_BYTES_MAX} bytes")]
pub struct RecordTooLarge {
    pub bytes: usize,
}

/// Encodes a record with its commit time (any size: [`Encoded::new`] is the gate).
pub fn encode(recorded_at: DateTime<Utc>, record: &Record) -> Vec<u8> {
    encode_stored(&convert::to_wire(recorded_at, record))
}

/// Encodes an already-built wire record (fixtures, tests).
pub fn encode_stored(stored: &StoredRecord) -> Vec<u8> {
    let mut bytes = postcard::to_stdvec(stored).expect("postcard encodes every wire type into a Vec");
    frame::seal(&mut bytes);
    bytes
}

/// A record with its stored bytes, measured against `RECORD_BYTES_MAX`. Built on the
/// submitter's thread (a window actor), so the journal's single writer only inserts
/// bytes and derives index keys: each record is converted and encoded once.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub record: Record,
    pub bytes: Vec<u8>,
}

impl Encoded {
    /// Encodes `record` committed at `recorded_at`; refuses one over `RECORD_BYTES_MAX`.
    pub fn new(recorded_at: DateTime<Utc>, record: Record) -> Result<Self, RecordTooLarge> {
        let bytes = encode(recorded_at, &record);
        if bytes.len() > RECORD_BYTES_MAX {
            return Err(RecordTooLarge { bytes: bytes.len() });
        }
        Ok(Self { record, bytes })
    }
}

/// Decodes bytes to the wire record, checking the checksum and that nothing trails.
pub fn decode_stored(bytes: &[u8]) -> Result<StoredRecord, DecodeError> {
    if bytes.len() < CRC_BYTES + 1 {
        return Err(DecodeError::TooShort(bytes.len()));
    }
    let payload = frame::open(bytes).map_err(DecodeError::from)?;
    frame::decode_exact::<StoredRecord>(payload).map_err(DecodeError::from)
}

/// Decodes bytes to a domain record and its commit time.
pub fn decode(bytes: &[u8]) -> Result<(DateTime<Utc>, Record), DecodeError> {
    Ok(convert::from_wire(decode_stored(bytes)?)?)
}
