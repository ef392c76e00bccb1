//! The waitlist's metrics, per venue (venues are bounded by `VENUES_MAX`, so the
//! labels are too): slots queued now, entries that joined, and offers made, taken
//! (paid) and expired (unpaid in time).

use metrics::{Counter, Gauge, counter, gauge};

use crate::domain::{Window, WindowEvent};

pub const WAITLIST_SLOTS: &str = "qskip_waitlist_slots";
pub const WAITLIST_JOINED: &str = "qskip_waitlist_joined_total";
pub const WAITLIST_OFFERS: &str = "qskip_waitlist_offers_total";

pub(super) fn describe() {
    metrics::describe_gauge!(WAITLIST_SLOTS, "Slots asked for by the waitlists of the venue's live windows");
    metrics::describe_counter!(WAITLIST_JOINED, "Reservations that joined a sold-out window's waitlist");
    metrics::describe_counter!(
        WAITLIST_OFFERS,
        "Waitlist offers, by outcome: made (slots offered), taken (paid), expired (not paid in time)"
    );
}

/// One venue's waitlist series; each window adds its queued slots to `slots` (see
/// `WindowMetrics::record_waitlist`).
pub(super) struct WaitlistSeries {
    joined: Counter,
    made: Counter,
    taken: Counter,
    expired: Counter,
    pub(super) slots: Gauge,
}

impl WaitlistSeries {
    pub(super) fn register(venue: &str) -> Self {
        let offers =
            |outcome: &'static str| counter!(WAITLIST_OFFERS, "venue" => venue.to_owned(), "outcome" => outcome);
        Self {
            joined: counter!(WAITLIST_JOINED, "venue" => venue.to_owned()),
            made: offers("made"),
            taken: offers("taken"),
            expired: offers("expired"),
            slots: gauge!(WAITLIST_SLOTS, "venue" => venue.to_owned()),
        }
    }

    /// Counts what a decision did to the queue; `window` has the events applied (it
    /// tells which confirmed or expired holds were offers).
    pub(super) fn record(&self, events: &[WindowEvent], window: &Window) {
        let was_offer = |id| window.reservation(id).is_some_and(|r| r.offered_at.is_some());
        for event in events {
            match event {
                WindowEvent::WaitlistJoined { .. } => self.joined.increment(1),
                WindowEvent::WaitlistOffered { .. } => self.made.increment(1),
                WindowEvent::HoldConfirmed { reservation_id, .. } if was_offer(reservation_id) => {
                    self.taken.increment(1)
                }
                WindowEvent::HoldExpired { reservation_id, .. } if was_offer(reservation_id) => {
                    self.expired.increment(1)
                }
                _ => {}
            }
        }
    }
}
