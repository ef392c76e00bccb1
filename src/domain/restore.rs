//! Rebuilding a [`Window`] from a saved picture of its state (a snapshot) instead of
//! from its events.
//!
//! A snapshot stores only what cannot be derived: the key, the capacity, whether the
//! window was opened and its reservations. The counters and the expiry queue are derived
//! here, the same way `apply` maintains them, so a restored window is equal (`==`) to
//! the fold of the events the snapshot covered.

use super::{Reservation, ReservationStatus, WaitlistEntry, Window, WindowKey};

/// Why saved parts cannot form a window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    #[error("reservation {0} appears twice")]
    DuplicateReservation(String),
    #[error("a window that was never opened has reservations")]
    NotOpened,
    #[error("slot counts overflow u32")]
    Overflow,
    #[error("stored status {0} is only ever shown, never stored")]
    DerivedStatus(ReservationStatus),
    #[error("waitlist entry {0} is not a waitlisted reservation, or queued twice")]
    NotWaitlisted(String),
    #[error("waitlisted reservation {0} is missing from the queue")]
    Unqueued(String),
}

impl Window {
    /// The window with these parts, counters and expiry queue derived.
    pub fn restore(
        key: WindowKey,
        capacity: u32,
        opened: bool,
        reservations: impl IntoIterator<Item = Reservation>,
    ) -> Result<Self, RestoreError> {
        let mut window = Window::unopened(key, capacity);
        window.opened = opened;
        for r in reservations {
            if !opened {
                return Err(RestoreError::NotOpened);
            }
            match r.status {
                ReservationStatus::Held => {
                    window.held = window.held.checked_add(r.quantity).ok_or(RestoreError::Overflow)?;
                    window.expiry_queue.insert((r.expires_at, r.id));
                }
                ReservationStatus::Confirmed => {
                    window.confirmed = window.confirmed.checked_add(r.quantity).ok_or(RestoreError::Overflow)?;
                }
                ReservationStatus::Expired | ReservationStatus::Cancelled => {}
                // Queued entries count against nothing; `restore_waitlist` orders them.
                ReservationStatus::Waitlisted => {}
                derived @ (ReservationStatus::RefundOwed | ReservationStatus::Refunded) => {
                    return Err(RestoreError::DerivedStatus(derived));
                }
            }
            if let Some(previous) = window.reservations.insert(r.id, r) {
                return Err(RestoreError::DuplicateReservation(previous.id.to_string()));
            }
        }
        // Held plus confirmed is summed on every decision (`counts_at`): it must fit too.
        window.held.checked_add(window.confirmed).ok_or(RestoreError::Overflow)?;
        Ok(window)
    }

    /// Puts the saved queue (head first) back; every `Waitlisted` reservation must be
    /// in it exactly once.
    pub fn restore_waitlist(&mut self, entries: impl IntoIterator<Item = WaitlistEntry>) -> Result<(), RestoreError> {
        let mut queued = std::collections::BTreeSet::new();
        for entry in entries {
            let waitlisted = self
                .reservations
                .get(&entry.id)
                .is_some_and(|r| r.status == ReservationStatus::Waitlisted && r.quantity == entry.quantity);
            if !waitlisted || !queued.insert(entry.id) {
                return Err(RestoreError::NotWaitlisted(entry.id.to_string()));
            }
            self.waitlist.slots().checked_add(entry.quantity).ok_or(RestoreError::Overflow)?;
            self.waitlist.push(entry);
        }
        let unqueued =
            self.reservations.values().find(|r| r.status == ReservationStatus::Waitlisted && !queued.contains(&r.id));
        match unqueued {
            Some(r) => Err(RestoreError::Unqueued(r.id.to_string())),
            None => Ok(()),
        }
    }

    /// True when the window can change no more by itself and owes nothing: it has
    /// ended, no hold is waiting to expire, no refund is owed and no checkout page is
    /// open. Such a window need not be kept in memory (or in a snapshot): its own
    /// events rebuild it on demand.
    pub fn is_settled(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        now >= self.key.end()
            && self.expiry_queue.is_empty()
            && self.waitlist.is_empty()
            && self
                .reservations
                .values()
                .all(|r| r.refunds.iter().all(|f| f.is_settled()) && r.checkout.as_ref().is_none_or(|c| c.closed))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::{ReservationId, VenueId};

    #[test]
    fn held_plus_confirmed_beyond_u32_is_refused() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let key = WindowKey::new(VenueId::parse("v").expect("a valid id"), at);
        let reservation = |id: u8, status| Reservation {
            id: ReservationId::from_bytes([id; 16]),
            quantity: u32::MAX,
            placed_at: at,
            expires_at: at,
            email: None,
            status,
            payment_ref: None,
            confirmed_at: None,
            refunds: Vec::new(),
            checkout: None,
            offered_at: None,
        };
        let parts = [reservation(1, ReservationStatus::Held), reservation(2, ReservationStatus::Confirmed)];
        assert_eq!(Window::restore(key, u32::MAX, true, parts), Err(RestoreError::Overflow));
    }
}
