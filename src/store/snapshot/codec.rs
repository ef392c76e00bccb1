//! Bytes of one snapshot file:
//! `magic (8 bytes) ++ postcard(StoredSnapshot) ++ CRC-32C(magic ++ payload) (4 bytes LE)`.
//!
//! The magic tells a snapshot from any other file; the first payload byte is the version
//! tag (postcard's varint variant index of [`StoredSnapshot`]). Decoding is strict: a
//! bad magic, a checksum mismatch, an unknown version or leftover bytes are all refused,
//! because a snapshot that is not exactly what was written must fall back to the log.

use super::wire::StoredSnapshot;
use crate::limits::SNAPSHOT_BYTES_MAX;

/// First bytes of every snapshot file.
pub const MAGIC: &[u8; 8] = b"QSKIPSNP";
use crate::store::frame::{self, CRC_BYTES, FrameError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotDecodeError {
    #[error("snapshot is {0} bytes, too short for magic, version and checksum")]
    TooShort(usize),
    #[error("snapshot is {0} bytes, more than SNAPSHOT_BYTES_MAX")]
    TooLarge(usize),
    #[error("not a qskip snapshot (bad magic)")]
    BadMagic,
    /// Torn or flipped bytes, an unknown version, or trailing garbage.
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("snapshot is well-formed but invalid: {0}")]
    Invalid(String),
}

/// Encodes a wire snapshot.
pub fn encode(snapshot: &StoredSnapshot) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    postcard::to_io(snapshot, &mut bytes).expect("postcard encodes every wire type into a Vec");
    frame::seal(&mut bytes);
    bytes
}

/// Decodes snapshot bytes, checking magic, checksum, version and that nothing trails.
pub fn decode(bytes: &[u8]) -> Result<StoredSnapshot, SnapshotDecodeError> {
    if bytes.len() < MAGIC.len() + 1 + CRC_BYTES {
        return Err(SnapshotDecodeError::TooShort(bytes.len()));
    }
    if bytes.len() > SNAPSHOT_BYTES_MAX {
        return Err(SnapshotDecodeError::TooLarge(bytes.len()));
    }
    if !bytes.starts_with(MAGIC) {
        return Err(SnapshotDecodeError::BadMagic);
    }
    let covered = frame::open(bytes).map_err(SnapshotDecodeError::from)?;
    frame::decode_exact::<StoredSnapshot>(&covered[MAGIC.len()..]).map_err(SnapshotDecodeError::from)
}
