//! Paces a backup's reads of the log inside a running service.
//!
//! A backup reads every record twice: once to fold the state digest of its header and
//! once to copy the records. At full speed this competed with sales for sled's page
//! cache and the CPU: reserve throughput fell by about half during the backup, measured
//! with `cargo bench --bench backup`. A lower thread priority alone was not enough.
//! Holding the reads to `BACKUP_READ_RECORDS_PER_SEC` makes the backup take longer and
//! leaves the sales their throughput. Backups of a stopped service, and restores, read
//! at full speed ([`Pace::unlimited`]).

use std::time::{Duration, Instant};

use crate::limits::BACKUP_READ_RECORDS_PER_SEC;

/// Records read between two checks of the schedule.
const CHECK_EVERY_RECORDS: u64 = 1_024;

/// A read schedule: at most `per_sec` records per second on average, measured from
/// the first record.
pub struct Pace {
    per_sec: Option<u64>,
    started: Instant,
    records: u64,
}

impl Pace {
    /// The pace of backups inside a running service.
    pub fn for_live_service() -> Self {
        Self::at_most(BACKUP_READ_RECORDS_PER_SEC)
    }

    pub fn at_most(per_sec: u64) -> Self {
        assert!(per_sec > 0, "a pace of zero records per second would never finish");
        Self { per_sec: Some(per_sec), started: Instant::now(), records: 0 }
    }

    pub fn unlimited() -> Self {
        Self { per_sec: None, started: Instant::now(), records: 0 }
    }

    /// Counts one record read, and sleeps while the reads are ahead of the schedule.
    pub fn record(&mut self) {
        self.records += 1;
        let Some(per_sec) = self.per_sec else { return };
        if !self.records.is_multiple_of(CHECK_EVERY_RECORDS) {
            return;
        }
        let due = Duration::from_secs_f64(self.records as f64 / per_sec as f64);
        if let Some(ahead) = due.checked_sub(self.started.elapsed()) {
            std::thread::sleep(ahead);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_read_takes_at_least_its_schedule_and_an_unlimited_one_never_waits() {
        let mut paced = Pace::at_most(100_000);
        let started = Instant::now();
        (0..20_480).for_each(|_| paced.record());
        assert!(started.elapsed() >= Duration::from_millis(200), "20,480 records at 100,000/s take 0.2 s at least");
        let mut unlimited = Pace::unlimited();
        (0..1_000_000).for_each(|_| unlimited.record());
        assert_eq!(unlimited.records, 1_000_000);
    }
}
