//! A window's waitlist: customers who found it sold out and queue, first in, first
//! served, for slots that free up later.
//!
//! A queued entry is a reservation in status `Waitlisted` (so it is read, cancelled and
//! looked up like any other); this type keeps only the order. Whenever a decision frees
//! slots (a hold expires, is cancelled or released, capacity is raised), the same
//! decision offers them to the queue: the entry becomes a hold (`WaitlistOffered`) that
//! expires `offer_secs` later and is paid like any hold. Service is strictly FIFO: the
//! head is offered first, and an entry that does not fit the free slots blocks every
//! entry behind it, whatever their quantity. So no entry is ever served before an
//! earlier one, and a large entry is not starved by a stream of small ones. While the
//! queue is not empty, newcomers get no slot either: they are sold out (or join the
//! tail). A late payment is the one exception: money already taken is honoured before
//! the queue when the slots are free in the decision that records it.
//!
//! The queue closes when the window ends: remaining entries expire.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Duration, Utc};

use super::{ReservationId, ReservationStatus, Window, WindowEvent};

/// One queued customer, in the order they joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub id: ReservationId,
    pub quantity: u32,
    /// How long an offer to this entry stays open (fixed when it joined).
    pub offer_secs: u32,
}

/// The queue of one window, head first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waitlist {
    queue: VecDeque<WaitlistEntry>,
    /// Sum of the queued quantities.
    slots: u32,
}

impl Waitlist {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queued entries, head first.
    pub fn entries(&self) -> impl Iterator<Item = &WaitlistEntry> {
        self.queue.iter()
    }

    /// Slots asked for by the queued entries.
    pub fn slots(&self) -> u32 {
        self.slots
    }

    /// Position of `id` in the queue, 1 = next to be offered.
    pub fn position(&self, id: &ReservationId) -> Option<u32> {
        let index = self.queue.iter().position(|e| e.id == *id)?;
        Some(u32::try_from(index + 1).expect("a queue is bounded by RESERVATIONS_PER_WINDOW_MAX"))
    }

    pub(super) fn head(&self) -> Option<&WaitlistEntry> {
        self.queue.front()
    }

    pub(super) fn push(&mut self, entry: WaitlistEntry) {
        self.slots = self.slots.checked_add(entry.quantity).expect("queued slots fit in u32");
        self.queue.push_back(entry);
    }

    /// Takes `id` out of the queue (wherever it stands); its entry, if it was queued.
    pub(super) fn remove(&mut self, id: &ReservationId) -> Option<WaitlistEntry> {
        let index = self.queue.iter().position(|e| e.id == *id)?;
        let entry = self.queue.remove(index).expect("the index was just found");
        self.slots -= entry.quantity;
        Some(entry)
    }
}

impl Window {
    pub fn waitlist(&self) -> &Waitlist {
        &self.waitlist
    }

    /// Free slots after `events` (decided at `now`, not yet applied) would be applied.
    /// Holds past their expiry already count as free (`counts_at`).
    pub(super) fn room_after(&self, events: &[WindowEvent], now: DateTime<Utc>) -> u32 {
        let counts = self.counts_at(now);
        let mut capacity = u64::from(counts.capacity);
        let mut committed = u64::from(counts.confirmed) + u64::from(counts.held);
        let quantity = |id: &ReservationId| u64::from(self.reservations.get(id).map_or(0, |r| r.quantity));
        for event in events {
            match event {
                WindowEvent::WindowOpened { capacity: c } | WindowEvent::CapacityChanged { capacity: c, .. } => {
                    capacity = u64::from(*c);
                }
                WindowEvent::HoldPlaced { quantity: q, .. } => committed += u64::from(*q),
                WindowEvent::WaitlistOffered { reservation_id, .. }
                | WindowEvent::HoldConfirmed { reservation_id, late: true, .. } => {
                    committed += quantity(reservation_id)
                }
                WindowEvent::HoldCancelled { reservation_id, .. }
                | WindowEvent::HoldReleased { reservation_id, .. } => {
                    committed = committed.saturating_sub(quantity(reservation_id));
                }
                _ => {}
            }
        }
        u32::try_from(capacity.saturating_sub(committed)).expect("room is at most the capacity, a u32")
    }

    /// The queue's part of a decision, given the events decided so far: offers of the
    /// free slots to the queue in order (stopping at the first entry that does not fit),
    /// or, once the window has ended, the expiry of every entry still queued.
    pub(super) fn serve_waitlist(&self, events: &[WindowEvent], now: DateTime<Utc>) -> Vec<WindowEvent> {
        if self.waitlist.is_empty() {
            return Vec::new();
        }
        let gone: BTreeSet<ReservationId> = events.iter().filter_map(left_queue).collect();
        let waiting = self.waitlist.entries().filter(|e| !gone.contains(&e.id));
        if now >= self.key.end() {
            return waiting.map(|e| WindowEvent::WaitlistExpired { reservation_id: e.id, expired_at: now }).collect();
        }
        let mut room = self.room_after(events, now);
        let mut offers = Vec::new();
        for entry in waiting {
            if entry.quantity > room {
                break;
            }
            room -= entry.quantity;
            let expires_at = now + Duration::seconds(i64::from(entry.offer_secs));
            offers.push(WindowEvent::WaitlistOffered { reservation_id: entry.id, offered_at: now, expires_at });
        }
        offers
    }

    /// True when entries would still wait after `events`: newcomers must not pass them.
    pub(super) fn queue_waits_after(&self, events: &[WindowEvent]) -> bool {
        let gone: BTreeSet<ReservationId> = events.iter().filter_map(left_queue).collect();
        self.waitlist.entries().any(|e| !gone.contains(&e.id))
    }

    /// Whether a sold-out request of `quantity` may queue: an entry larger than the
    /// window could never be served and would block the queue for good.
    pub(super) fn accepts_waitlist(&self, quantity: u32, now: DateTime<Utc>) -> bool {
        now < self.key.end() && quantity <= self.capacity
    }

    pub(super) fn apply_waitlist(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::WaitlistJoined { reservation_id, quantity, joined_at, email, offer_secs } => {
                assert!(self.opened, "{}: WaitlistJoined before WindowOpened", self.key);
                assert!(!self.reservations.contains_key(reservation_id), "{}: duplicate reservation", self.key);
                let entry = WaitlistEntry { id: *reservation_id, quantity: *quantity, offer_secs: *offer_secs };
                self.waitlist.push(entry);
                let mut r = super::Reservation::new(*reservation_id, *quantity, *joined_at, self.key.end());
                r.email = email.clone();
                r.status = ReservationStatus::Waitlisted;
                self.reservations.insert(*reservation_id, r);
            }
            WindowEvent::WaitlistOffered { reservation_id, offered_at, expires_at } => {
                let head = self.waitlist.head().map(|e| e.id);
                assert_eq!(head, Some(*reservation_id), "{}: offers go to the head of the queue", self.key);
                let entry = self.waitlist.remove(reservation_id).expect("the head is queued");
                self.held = self.held.checked_add(entry.quantity).expect("held slots fit in u32");
                assert!(
                    u64::from(self.held) + u64::from(self.confirmed) <= u64::from(self.capacity),
                    "{}: an offer beyond capacity",
                    self.key
                );
                self.expiry_queue.insert((*expires_at, *reservation_id));
                let r = self.reservations.get_mut(reservation_id).expect("queued entries are reservations");
                r.status = ReservationStatus::Held;
                r.expires_at = *expires_at;
                r.offered_at = Some(*offered_at);
            }
            WindowEvent::WaitlistLeft { reservation_id, .. } => {
                self.leave_queue(reservation_id, ReservationStatus::Cancelled)
            }
            WindowEvent::WaitlistExpired { reservation_id, .. } => {
                self.leave_queue(reservation_id, ReservationStatus::Expired);
            }
            other => unreachable!("apply_waitlist only takes waitlist events, got {other:?}"),
        }
    }

    fn leave_queue(&mut self, id: &ReservationId, next: ReservationStatus) {
        assert!(self.waitlist.remove(id).is_some(), "{}: {id} must be queued to become {next}", self.key);
        let r = self.reservations.get_mut(id).expect("queued entries are reservations");
        r.status = next;
    }
}

/// The reservation an event takes out of the queue, if it does.
fn left_queue(event: &WindowEvent) -> Option<ReservationId> {
    match event {
        WindowEvent::WaitlistOffered { reservation_id, .. }
        | WindowEvent::WaitlistLeft { reservation_id, .. }
        | WindowEvent::WaitlistExpired { reservation_id, .. } => Some(*reservation_id),
        _ => None,
    }
}

impl Window {
    /// Views of every reservation of this window at `now`, with queue positions found
    /// in one pass over the queue (a listing stays linear however long the queue).
    pub fn views(&self, prices: &super::PriceHistory, now: DateTime<Utc>) -> Vec<super::ReservationView> {
        let positions: std::collections::HashMap<ReservationId, u32> =
            (1..).zip(self.waitlist.entries()).map(|(n, e)| (e.id, n)).collect();
        let view = |r: &super::Reservation| {
            let mut view = super::ReservationView::of(&self.key, r, prices, now);
            if view.status == ReservationStatus::Waitlisted {
                view.position = positions.get(&r.id).copied();
            }
            view
        };
        self.reservations().map(view).collect()
    }

    /// The view of reservation `r` of this window at `now`, with its queue position.
    pub fn view(
        &self,
        r: &super::Reservation,
        prices: &super::PriceHistory,
        now: DateTime<Utc>,
    ) -> super::ReservationView {
        let mut view = super::ReservationView::of(&self.key, r, prices, now);
        if view.status == ReservationStatus::Waitlisted {
            view.position = self.waitlist.position(&r.id);
        }
        view
    }
}
