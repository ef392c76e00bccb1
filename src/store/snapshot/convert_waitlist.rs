//! The waitlist states a V3 snapshot adds to V2 (each queue's order, and which
//! reservations were offers and when), in and out of domain windows.

use std::collections::BTreeMap;

use super::wire::{OfferV3, QueuedV3, WaitlistStateV3};
use crate::domain::{Reservation, ReservationId, WaitlistEntry, Window};
use crate::store::convert::{InvalidRecord, invalid, micros, time};

/// The waitlist state of `window`, if it has any (a queue, or an offer made).
pub fn waitlist_state(window: &Window) -> Option<WaitlistStateV3> {
    let queue: Vec<QueuedV3> = window
        .waitlist()
        .entries()
        .map(|e| QueuedV3 { reservation_id: *e.id.as_bytes(), quantity: e.quantity, offer_secs: e.offer_secs })
        .collect();
    let offers: Vec<OfferV3> = window
        .reservations()
        .filter_map(|r| r.offered_at.map(|at| OfferV3 { reservation_id: *r.id.as_bytes(), offered_at_us: micros(at) }))
        .collect();
    if queue.is_empty() && offers.is_empty() {
        return None;
    }
    let key = window.key();
    Some(WaitlistStateV3 { venue_id: key.venue_id.as_str().to_owned(), start_us: micros(key.start), queue, offers })
}

/// Waitlist states by window, keyed like `WindowSnapV1` (venue id, start).
pub type ByWindow = BTreeMap<(String, i64), WaitlistStateV3>;

pub fn by_window(states: Vec<WaitlistStateV3>) -> Result<ByWindow, InvalidRecord> {
    let mut grouped = ByWindow::new();
    for state in states {
        if grouped.insert((state.venue_id.clone(), state.start_us), state).is_some() {
            return Err(invalid("a window's waitlist appears twice"));
        }
    }
    Ok(grouped)
}

/// Marks the offers on their reservations; an offer naming no reservation is refused.
pub fn restore_offers(reservations: &mut [Reservation], state: Option<&WaitlistStateV3>) -> Result<(), InvalidRecord> {
    for offer in state.map_or(&[][..], |s| &s.offers) {
        let r = reservations.iter_mut().find(|r| r.id.as_bytes() == &offer.reservation_id);
        let r = r.ok_or_else(|| invalid("a waitlist offer names no reservation of its window"))?;
        r.offered_at = Some(time(offer.offered_at_us)?);
    }
    Ok(())
}

/// Puts the queue back in order (every waitlisted reservation must be in it).
pub fn restore_queue(window: &mut Window, state: Option<WaitlistStateV3>) -> Result<(), InvalidRecord> {
    let queue = state.map(|s| s.queue).unwrap_or_default();
    let entries = queue.into_iter().map(|q| WaitlistEntry {
        id: ReservationId::from_bytes(q.reservation_id),
        quantity: q.quantity,
        offer_secs: q.offer_secs,
    });
    window.restore_waitlist(entries).map_err(invalid)
}
