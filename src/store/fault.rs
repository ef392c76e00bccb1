//! A test seam for the log's failure paths: make the next writes fail (an I/O error, as
//! a full or failing disk gives) or stall (a disk that stops answering). Off unless a
//! test turns it on through [`EventLog::faults`](super::EventLog::faults); a production
//! process never does. It sits in front of the one write the journal makes per batch,
//! so what it exercises is the journal's real handling of that failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

const NONE: u8 = 0;
const FAIL: u8 = 1;
const STALL: u8 = 2;

/// What the next log writes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFault {
    /// Writes succeed (the default).
    None,
    /// Every write fails with an I/O error.
    Fail,
    /// Every write waits until the fault is changed.
    Stall,
}

/// Shared by every clone of one `EventLog`.
#[derive(Debug, Clone, Default)]
pub struct WriteFaults(Arc<AtomicU8>);

impl WriteFaults {
    pub fn inject(&self, fault: WriteFault) {
        let mode = match fault {
            WriteFault::None => NONE,
            WriteFault::Fail => FAIL,
            WriteFault::Stall => STALL,
        };
        self.0.store(mode, Ordering::SeqCst);
    }

    /// Runs before each batch write, on the journal's writer thread.
    pub(super) fn before_write(&self) -> std::io::Result<()> {
        loop {
            match self.0.load(Ordering::SeqCst) {
                FAIL => return Err(std::io::Error::other("injected write failure")),
                STALL => std::thread::sleep(std::time::Duration::from_millis(5)),
                _ => return Ok(()),
            }
        }
    }
}
