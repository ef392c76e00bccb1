//! The one checksum framing of everything qskip writes to disk (log records and
//! snapshot files): `covered bytes ++ CRC-32C(covered) (4 bytes LE)`, decoded strictly.
//!
//! CRC-32C is Castagnoli (`crc::CRC_32_ISCSI`). A record covers its postcard payload; a
//! snapshot covers its magic and payload. Decoding checks the checksum first, then
//! decodes the payload with `take_from_bytes` and refuses leftover bytes, because
//! postcard's `from_bytes` would accept trailing garbage silently.

use serde::de::DeserializeOwned;

/// CRC-32C, computed 16 bytes at a time (a 16 KiB table): checking every record is on
/// the path of replay and start-up, where the byte-wise table showed in the profile.
pub static CRC32C: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// Bytes of the checksum at the end of a frame.
pub const CRC_BYTES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum { stored: u32, computed: u32 },
    #[error("payload does not decode: {0}")]
    Payload(String),
    #[error("{0} trailing bytes after the payload")]
    Trailing(usize),
}

/// Appends the checksum of everything in `bytes` so far.
pub fn seal(bytes: &mut Vec<u8>) {
    let crc = CRC32C.checksum(bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
}

/// The covered bytes of a frame, once its checksum matches. The caller has checked
/// that `frame` holds more than [`CRC_BYTES`].
pub fn open(frame: &[u8]) -> Result<&[u8], FrameError> {
    assert!(frame.len() > CRC_BYTES, "callers refuse frames too short for a checksum first");
    let (covered, crc_bytes) = frame.split_at(frame.len() - CRC_BYTES);
    let stored = u32::from_le_bytes(crc_bytes.try_into().expect("split_at left exactly CRC_BYTES bytes"));
    let computed = CRC32C.checksum(covered);
    match stored == computed {
        true => Ok(covered),
        false => Err(FrameError::Checksum { stored, computed }),
    }
}

/// Decodes `payload` as exactly one `T`: leftover bytes are refused.
pub fn decode_exact<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    let (value, rest) = postcard::take_from_bytes::<T>(payload).map_err(|e| FrameError::Payload(e.to_string()))?;
    match rest.is_empty() {
        true => Ok(value),
        false => Err(FrameError::Trailing(rest.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wide_table_computes_the_byte_wise_checksum() {
        let byte_wise = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for len in [0, 1, 15, 16, 17, 100, 1000] {
            assert_eq!(CRC32C.checksum(&bytes[..len]), byte_wise.checksum(&bytes[..len]), "length {len}");
        }
    }
}
