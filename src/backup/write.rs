//! Writing a range of the log as a backup file: header, each record as
//! `u32 LE length ++ stored bytes`, trailer. One pass over sled, streaming: memory stays
//! flat whatever the log's size, and sales go on (sled reads run beside the writer).

use std::io::Write;

use super::BackupError;
use super::format::{Header, encode_trailer};
use super::pace::Pace;
use crate::replay::digest_through_each;
use crate::store::EventLog;
use crate::store::frame::CRC32C;

/// The header of a full backup of records `1..=through`: folds them to state the digest.
pub fn backup_header(
    log: &EventLog,
    through: u64,
    created_at_micros: i64,
    pace: &mut Pace,
) -> Result<Header, BackupError> {
    let (digest, _violations) = digest_through_each(log, through, || pace.record())?;
    Ok(Header::new(1, through, created_at_micros, Some(digest)))
}

/// Writes the file `header` describes: its records are read from `log` now. Fails with
/// [`BackupError::Gap`] (leaving no trailer, so the output is refused if kept) when
/// the log does not hold every record of the range.
pub fn write_range(log: &EventLog, header: &Header, out: &mut impl Write, pace: &mut Pace) -> Result<(), BackupError> {
    out.write_all(&header.encode())?;
    let mut body = CRC32C.digest();
    let mut expected = header.first_seq;
    if header.record_count > 0 {
        for entry in log.raw_range(header.first_seq, header.last_seq) {
            let (seq, bytes) = entry?;
            if seq != expected {
                return Err(BackupError::Gap { expected, found: seq });
            }
            let len = u32::try_from(bytes.len()).expect("a record fits in u32 (RECORD_BYTES_MAX)").to_le_bytes();
            body.update(&len);
            body.update(&bytes);
            out.write_all(&len)?;
            out.write_all(&bytes)?;
            expected += 1;
            pace.record();
        }
    }
    if expected != header.last_seq + 1 {
        return Err(BackupError::Gap { expected, found: 0 });
    }
    out.write_all(&encode_trailer(header.record_count, body.finalize()))?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::read::BackupReader;

    #[test]
    fn an_empty_log_backs_up_and_reads_back_as_zero_records() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = EventLog::open(dir.path()).expect("opens");
        let header = backup_header(&log, 0, 0, &mut Pace::unlimited()).expect("folds nothing");
        let mut bytes = Vec::new();
        write_range(&log, &header, &mut bytes, &mut Pace::unlimited()).expect("writes");
        let mut reader = BackupReader::open(bytes.as_slice()).expect("a header");
        assert_eq!(reader.header().record_count, 0);
        assert!(reader.next_record().expect("a trailer").is_none());
    }
}
