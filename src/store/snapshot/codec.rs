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
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
const CRC_BYTES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotDecodeError {
    #[error("snapshot is {0} bytes, too short for magic, version and checksum")]
    TooShort(usize),
    #[error("snapshot is {0} bytes, more than SNAPSHOT_BYTES_MAX")]
    TooLarge(usize),
    #[error("not a qskip snapshot (bad magic)")]
    BadMagic,
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum { stored: u32, computed: u32 },
    #[error("payload does not decode (unknown version or damaged): {0}")]
    Payload(String),
    #[error("{0} trailing bytes after the payload")]
    Trailing(usize),
    #[error("snapshot is well-formed but invalid: {0}")]
    Invalid(String),
}

/// Encodes a wire snapshot.
pub fn encode(snapshot: &StoredSnapshot) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    postcard::to_io(snapshot, &mut bytes).expect("postcard encodes every wire type into a Vec");
    let crc = CRC32C.checksum(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
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
    let (covered, crc_bytes) = bytes.split_at(bytes.len() - CRC_BYTES);
    let stored = u32::from_le_bytes(crc_bytes.try_into().expect("split_at left exactly 4 bytes"));
    let computed = CRC32C.checksum(covered);
    if stored != computed {
        return Err(SnapshotDecodeError::Checksum { stored, computed });
    }
    let payload = &covered[MAGIC.len()..];
    let (snapshot, rest) = postcard::take_from_bytes::<StoredSnapshot>(payload)
        .map_err(|e| SnapshotDecodeError::Payload(e.to_string()))?;
    if !rest.is_empty() {
        return Err(SnapshotDecodeError::Trailing(rest.len()));
    }
    Ok(snapshot)
}
