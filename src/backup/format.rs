//! The bytes of a backup file's header and trailer (documented in `backups/README.md`).
//!
//! Fixed-size, little-endian, no postcard: an operator can read a header with `xxd`,
//! and a future version can change everything after the version field. The header is
//! sealed with the same CRC-32C framing as log records ([`crate::store::frame`]).

use super::BackupError;
use crate::store::frame;

/// First bytes of every backup and archive segment.
pub const MAGIC: &[u8; 8] = b"QSKIPBAK";
/// First bytes of the trailer.
pub const TRAILER_MAGIC: &[u8; 8] = b"QSKIPEND";
/// The format version this qskip writes and reads.
pub const VERSION: u32 = 1;
/// Header bytes before its checksum.
const HEADER_COVERED: usize = 80;
/// Header bytes, checksum included.
pub const HEADER_BYTES: usize = HEADER_COVERED + frame::CRC_BYTES;
/// Trailer bytes: magic, record count, body checksum.
pub const TRAILER_BYTES: usize = 8 + 8 + 4;
/// Header flag: the digest field holds the state digest at `last_seq`.
const FLAG_DIGEST: u32 = 1;

/// What a backup file states about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Seq of the first record in the file (1 for a backup, later for a segment).
    pub first_seq: u64,
    /// Seq of the last record: the position the file brings a log to.
    pub last_seq: u64,
    /// Records in the file: `last_seq - first_seq + 1`.
    pub record_count: u64,
    /// When the file was taken, in microseconds since the epoch.
    pub created_at_micros: i64,
    /// Hex SHA-256 state digest after record `last_seq` (see `replay::digest_through`);
    /// archive segments state none.
    pub digest: Option<String>,
}

impl Header {
    /// A header for records `first_seq..=last_seq` (empty when `last_seq < first_seq`).
    pub fn new(first_seq: u64, last_seq: u64, created_at_micros: i64, digest: Option<String>) -> Self {
        let record_count = (last_seq + 1).saturating_sub(first_seq);
        Self { first_seq, last_seq, record_count, created_at_micros, digest }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(if self.digest.is_some() { FLAG_DIGEST } else { 0 }).to_le_bytes());
        bytes.extend_from_slice(&self.first_seq.to_le_bytes());
        bytes.extend_from_slice(&self.last_seq.to_le_bytes());
        bytes.extend_from_slice(&self.record_count.to_le_bytes());
        bytes.extend_from_slice(&self.created_at_micros.to_le_bytes());
        let mut digest = [0u8; 32];
        if let Some(hex_digest) = &self.digest {
            let raw = hex::decode(hex_digest).expect("a state digest is hex (replay::digest_through)");
            digest.copy_from_slice(&raw);
        }
        bytes.extend_from_slice(&digest);
        debug_assert_eq!(bytes.len(), HEADER_COVERED);
        frame::seal(&mut bytes);
        bytes
    }

    /// Decodes a header, refusing foreign files, other versions and damaged headers
    /// (in that order, so the message names the most basic problem).
    pub fn decode(bytes: &[u8; HEADER_BYTES]) -> Result<Self, BackupError> {
        if &bytes[..8] != MAGIC {
            return Err(BackupError::Foreign { expected: "QSKIPBAK" });
        }
        let version = u32::from_le_bytes(field(bytes, 8));
        if version != VERSION {
            return Err(BackupError::Version { found: version, supported: VERSION });
        }
        let covered = frame::open(bytes).map_err(|e| BackupError::Header(e.to_string()))?;
        let flags = u32::from_le_bytes(field(covered, 12));
        let u64_at = |at| u64::from_le_bytes(field(covered, at));
        let digest = (flags & FLAG_DIGEST != 0).then(|| hex::encode(&covered[48..80]));
        let header = Self {
            first_seq: u64_at(16),
            last_seq: u64_at(24),
            record_count: u64_at(32),
            created_at_micros: i64::from_le_bytes(field(covered, 40)),
            digest,
        };
        let consistent = header.first_seq >= 1
            && header.record_count == (header.last_seq + 1).saturating_sub(header.first_seq)
            && header.last_seq + 1 >= header.first_seq;
        match consistent {
            true => Ok(header),
            false => Err(BackupError::Header(format!(
                "it states records {}..={} but a count of {}",
                header.first_seq, header.last_seq, header.record_count
            ))),
        }
    }
}

/// The trailer: proves the file is complete and its body unchanged.
pub fn encode_trailer(record_count: u64, body_crc: u32) -> [u8; TRAILER_BYTES] {
    let mut bytes = [0u8; TRAILER_BYTES];
    bytes[..8].copy_from_slice(TRAILER_MAGIC);
    bytes[8..16].copy_from_slice(&record_count.to_le_bytes());
    bytes[16..].copy_from_slice(&body_crc.to_le_bytes());
    bytes
}

/// Checks a trailer against what the reader counted and computed.
pub fn check_trailer(bytes: &[u8; TRAILER_BYTES], record_count: u64, body_crc: u32) -> Result<(), BackupError> {
    if &bytes[..8] != TRAILER_MAGIC {
        return Err(BackupError::Trailer("missing (no end marker after the last record)".into()));
    }
    let stored_count = u64::from_le_bytes(field(bytes, 8));
    if stored_count != record_count {
        return Err(BackupError::Trailer(format!("for {stored_count} records, the header states {record_count}")));
    }
    let stored = u32::from_le_bytes(field(bytes, 16));
    match stored == body_crc {
        true => Ok(()),
        false => Err(BackupError::BodyChecksum { stored, computed: body_crc }),
    }
}

/// `N` bytes of `bytes` at `at`; callers index inside fixed-size buffers.
fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().expect("fields lie inside the fixed-size header and trailer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(digest: Option<&str>) -> Header {
        Header::new(1, 42, 1_764_331_500_000_000, digest.map(str::to_owned))
    }

    #[test]
    fn a_header_round_trips_with_and_without_a_digest() {
        let digest = "ab".repeat(32);
        for header in [header(Some(&digest)), header(None), Header::new(1, 0, 0, Some(digest.clone()))] {
            let bytes: [u8; HEADER_BYTES] = header.encode().try_into().expect("HEADER_BYTES long");
            assert_eq!(Header::decode(&bytes).expect("decodes"), header);
        }
        assert_eq!(header(None).record_count, 42);
        assert_eq!(Header::new(1, 0, 0, None).record_count, 0);
    }

    #[test]
    fn a_header_stating_a_count_its_positions_contradict_is_refused() {
        let mut bytes = header(None).encode();
        bytes[32..40].copy_from_slice(&7u64.to_le_bytes());
        bytes.truncate(80);
        frame::seal(&mut bytes);
        let bytes: [u8; HEADER_BYTES] = bytes.try_into().expect("HEADER_BYTES long");
        let error = Header::decode(&bytes).expect_err("inconsistent").to_string();
        assert!(error.contains("states records 1..=42 but a count of 7"), "{error}");
    }

    #[test]
    fn a_trailer_checks_count_and_body_checksum() {
        let trailer = encode_trailer(3, 0xdead_beef);
        assert!(check_trailer(&trailer, 3, 0xdead_beef).is_ok());
        assert!(matches!(check_trailer(&trailer, 4, 0xdead_beef), Err(BackupError::Trailer(_))));
        assert!(matches!(check_trailer(&trailer, 3, 1), Err(BackupError::BodyChecksum { .. })));
    }
}
