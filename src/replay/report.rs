//! What replay found: per-window figures and violations, as a table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::SnapshotCheck;
use crate::domain::{ReservationStatus, Window};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowReport {
    pub venue_id: String,
    pub start: String,
    pub capacity: u32,
    pub confirmed: u32,
    /// Slots still in status held at the end of the log (some may be past expiry).
    pub held: u32,
    pub expired: u32,
    pub cancelled: u32,
    pub reservations: usize,
    /// Refunds still owed (an outcome is pending) and refunds issued.
    pub refunds_owed: usize,
    pub refunds_issued: usize,
}

impl WindowReport {
    pub fn of(window: &Window) -> Self {
        let slots = |status| window.reservations().filter(|r| r.status == status).map(|r| r.quantity).sum();
        let refunds = || window.reservations().flat_map(|r| r.refunds.iter());
        Self {
            venue_id: window.key().venue_id.to_string(),
            start: window.key().start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            capacity: window.capacity(),
            confirmed: slots(ReservationStatus::Confirmed),
            held: slots(ReservationStatus::Held),
            expired: slots(ReservationStatus::Expired),
            cancelled: slots(ReservationStatus::Cancelled),
            reservations: window.reservations().count(),
            refunds_owed: refunds().filter(|f| f.refund_id.is_none()).count(),
            refunds_issued: refunds().filter(|f| f.refund_id.is_some()).count(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationReport {
    /// Log position of the offending record.
    pub seq: u64,
    pub window: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub records: u64,
    pub venues: usize,
    pub windows: Vec<WindowReport>,
    pub violations: Vec<ViolationReport>,
    /// SHA-256 over the canonical (snapshot) encoding of every window shown, in key
    /// order: `service::Recovery::state_digest` computes the same for the running service.
    pub digest: String,
    /// The comparison with the newest readable snapshot, if there is one.
    pub snapshot: Option<SnapshotCheck>,
    /// Snapshots that could not be read (ignored, as start-up ignores them).
    pub unreadable_snapshots: Vec<String>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// A plain-text table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let header = [
            "venue",
            "window start (UTC)",
            "capacity",
            "confirmed",
            "held",
            "expired",
            "cancelled",
            "refunds owed/issued",
        ];
        let _ = writeln!(
            out,
            "{:<16} {:<26} {:>8} {:>9} {:>6} {:>7} {:>9} {:>20}",
            header[0], header[1], header[2], header[3], header[4], header[5], header[6], header[7]
        );
        for w in &self.windows {
            let _ = writeln!(
                out,
                "{:<16} {:<26} {:>8} {:>9} {:>6} {:>7} {:>9} {:>20}",
                w.venue_id,
                w.start,
                w.capacity,
                w.confirmed,
                w.held,
                w.expired,
                w.cancelled,
                format!("{}/{}", w.refunds_owed, w.refunds_issued)
            );
        }
        let _ =
            writeln!(out, "\n{} records, {} venues, {} windows shown", self.records, self.venues, self.windows.len());
        let _ = writeln!(out, "state digest (sha256): {}", self.digest);
        match &self.snapshot {
            None => out.push_str("no snapshot to compare with\n"),
            Some(s) => {
                let verdict = if s.matches { "matches the log" } else { "DIFFERS from the log" };
                let _ = writeln!(out, "snapshot {} (seq {}, {} windows) {verdict}", s.path, s.seq, s.windows);
            }
        }
        for problem in &self.unreadable_snapshots {
            let _ = writeln!(out, "unreadable snapshot ignored: {problem}");
        }
        match self.violations.len() {
            0 => out.push_str("no violations\n"),
            n => {
                let _ = writeln!(out, "{n} VIOLATIONS:");
                for v in &self.violations {
                    let _ = writeln!(out, "  seq {} {}: {}", v.seq, v.window.as_deref().unwrap_or("-"), v.message);
                }
            }
        }
        out
    }
}
