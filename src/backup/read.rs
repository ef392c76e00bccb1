//! Reading a backup file back: the header first (foreign, wrong-version and damaged
//! files are refused before anything else), then each record with its own checksum
//! checked, then the trailer (a truncated file has none, a changed body
//! fails its checksum), then nothing: trailing bytes are refused too.

use std::io::{ErrorKind, Read};

use super::BackupError;
use super::format::{HEADER_BYTES, Header, MAGIC, TRAILER_BYTES, VERSION, check_trailer};
use crate::limits::RECORD_BYTES_MAX;
use crate::store::codec::DecodeError;
use crate::store::frame::{self, CRC_BYTES, CRC32C};

/// A backup file being read record by record.
pub struct BackupReader<R: Read> {
    input: R,
    header: Header,
    read: u64,
    body: crc::Digest<'static, u32, crc::Table<16>>,
}

impl<R: Read> BackupReader<R> {
    /// Reads and checks the header.
    pub fn open(mut input: R) -> Result<Self, BackupError> {
        let mut bytes = [0u8; HEADER_BYTES];
        let got = read_full(&mut input, &mut bytes)?;
        if got < HEADER_BYTES {
            if got < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
                return Err(BackupError::Foreign { expected: "QSKIPBAK" });
            }
            let found = bytes[8..12].try_into().map(u32::from_le_bytes).expect("4 bytes");
            if got >= 12 && found != VERSION {
                return Err(BackupError::Version { found, supported: VERSION });
            }
            return Err(BackupError::Header(format!("truncated: the file is only {got} bytes")));
        }
        let header = Header::decode(&bytes)?;
        Ok(Self { input, header, read: 0, body: CRC32C.digest() })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next record as (seq, stored bytes), checked; `None` once the trailer and the
    /// end of the file have been checked too.
    pub fn next_record(&mut self) -> Result<Option<(u64, Vec<u8>)>, BackupError> {
        if self.read == self.header.record_count {
            self.finish()?;
            return Ok(None);
        }
        let seq = self.header.first_seq + self.read;
        let mut len = [0u8; 4];
        self.read_exact(&mut len)?;
        let size = u32::from_le_bytes(len) as usize;
        if size > RECORD_BYTES_MAX {
            return Err(BackupError::RecordTooLarge { seq, len: size, max: RECORD_BYTES_MAX });
        }
        let mut bytes = vec![0u8; size];
        self.read_exact(&mut bytes)?;
        self.body.update(&len);
        self.body.update(&bytes);
        // The record's own checksum; restoring decodes it in full (`write_raw_batch`).
        if bytes.len() <= CRC_BYTES {
            return Err(BackupError::Record { seq, source: DecodeError::TooShort(bytes.len()) });
        }
        frame::open(&bytes).map_err(|e| BackupError::Record { seq, source: e.into() })?;
        self.read += 1;
        Ok(Some((seq, bytes)))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        self.input.read_exact(buf).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => BackupError::Truncated { read: self.read, stated: self.header.record_count },
            _ => BackupError::Io(e),
        })
    }

    fn finish(&mut self) -> Result<(), BackupError> {
        let mut trailer = [0u8; TRAILER_BYTES];
        let got = read_full(&mut self.input, &mut trailer)?;
        if got < TRAILER_BYTES {
            return Err(BackupError::Trailer(format!("missing ({got} of {TRAILER_BYTES} bytes)")));
        }
        let computed = std::mem::replace(&mut self.body, CRC32C.digest()).finalize();
        check_trailer(&trailer, self.header.record_count, computed)?;
        let mut extra = [0u8; 1];
        match read_full(&mut self.input, &mut extra)? {
            0 => Ok(()),
            _ => Err(BackupError::Trailer("followed by unexpected bytes".into())),
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, BackupError> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(BackupError::Io(e)),
        }
    }
    Ok(got)
}

/// Reads a whole file, checking every checksum and its completeness (not the digest,
/// which takes a fold: see `restore::verify`). Returns its header.
pub fn check_file(path: &std::path::Path) -> Result<Header, BackupError> {
    let file = std::fs::File::open(path)?;
    let mut reader = BackupReader::open(std::io::BufReader::new(file))?;
    while reader.next_record()?.is_some() {}
    Ok(reader.header.clone())
}
