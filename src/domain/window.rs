//! One window's state, the rules that change it (`decide`) and the fold (`apply`).
//!
//! Capacity is enforced here and only here: a hold is granted only if
//! `confirmed + live holds + quantity <= capacity`. Expiry is lazy: every decision first
//! emits `HoldExpired` for each hold whose time has passed, so the log always shows a
//! hold ending before its slots are given to someone else, and no timer is needed for
//! correctness. A decision ends by serving the window's waitlist (`waitlist.rs`): the
//! slots it freed are offered to the queue, in order, in the same decision; for a new
//! reservation the queue is served first (`placement.rs`).

use chrono::{DateTime, Utc};

use super::waitlist::Waitlist;
use super::window_expiry::ExpiryQueue;
use super::window_reservations::ReservationMap;
use super::{Command, Rejection, Reservation, ReservationId, ReservationStatus, WindowEvent, WindowKey};
use crate::limits::{RESERVATION_QUANTITY_MAX, RESERVATIONS_PER_WINDOW_MAX};

/// Counts of one window at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCounts {
    pub capacity: u32,
    pub held: u32,
    pub confirmed: u32,
    pub available: u32,
    /// More committed than capacity: only after a capacity cut; grants nothing.
    pub overcommitted: bool,
    /// Slots asked for by the waitlist (entries still queued).
    pub waitlisted: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub(super) key: WindowKey,
    pub(super) capacity: u32,
    /// False until `WindowOpened` is applied; an unopened window has no events yet and
    /// takes its capacity from the schedule.
    pub(super) opened: bool,
    pub(super) reservations: ReservationMap,
    /// Holds in status `Held`, ordered by expiry: the next to expire first.
    pub(super) expiry_queue: ExpiryQueue,
    /// Slots in status `Held`, including holds past expiry not yet marked expired.
    pub(super) held: u32,
    pub(super) confirmed: u32,
    /// Customers queued for slots that free up (`waitlist.rs`).
    pub(super) waitlist: Waitlist,
}

impl Window {
    /// A window with no events yet, with the capacity its schedule gives today.
    pub fn unopened(key: WindowKey, capacity: u32) -> Self {
        Self {
            key,
            capacity,
            opened: false,
            reservations: ReservationMap::default(),
            expiry_queue: ExpiryQueue::default(),
            held: 0,
            confirmed: 0,
            waitlist: Waitlist::default(),
        }
    }

    pub fn key(&self) -> &WindowKey {
        &self.key
    }

    pub fn is_opened(&self) -> bool {
        self.opened
    }

    pub fn reservation(&self, id: &ReservationId) -> Option<&Reservation> {
        self.reservations.get(id)
    }

    pub fn reservations(&self) -> impl Iterator<Item = &Reservation> {
        self.reservations.values()
    }

    /// Slots in status `Held` plus confirmed, as recorded (no expiry applied).
    pub fn committed_recorded(&self) -> u32 {
        self.held + self.confirmed
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Counts as a customer should see them at `now`: dead holds no longer count.
    /// `available` is what a newcomer could get: nothing while the waitlist waits (the
    /// slots freed meanwhile go to the queue at the next decision).
    pub fn counts_at(&self, now: DateTime<Utc>) -> WindowCounts {
        let held = self.held - self.due_quantity(now);
        // Checked in this order so that a window without a queue (the hot case) does no
        // time arithmetic here.
        let waitlisted = match self.waitlist.slots() {
            queued if queued > 0 && now < self.key.end() => queued,
            _ => 0,
        };
        let available = match waitlisted {
            0 => self.capacity.saturating_sub(self.confirmed + held),
            _ => 0,
        };
        let overcommitted = self.confirmed + held > self.capacity;
        WindowCounts { capacity: self.capacity, held, confirmed: self.confirmed, available, overcommitted, waitlisted }
    }

    /// When the window next changes by itself: the next live hold expiry, or the end
    /// of the window while entries are queued (the queue then closes).
    pub fn earliest_expiry(&self) -> Option<DateTime<Utc>> {
        let hold = self.expiry_queue.first().map(|(at, _)| *at);
        let queue_closes = (!self.waitlist.is_empty()).then(|| self.key.end());
        hold.into_iter().chain(queue_closes).min()
    }

    /// The events that carry out `command` at `now`, or why it is refused.
    pub fn decide(&self, command: &Command, now: DateTime<Utc>) -> Result<Vec<WindowEvent>, Rejection> {
        let mut events = self.expiries_due(now);
        // Slots freed so far go to the queue before any newcomer. Every other command
        // is decided first and the queue served after it (so a late payment is honoured
        // before the queue, and a cancel meets its entry still queued).
        if matches!(command, Command::PlaceHold { .. }) {
            events.extend(self.serve_waitlist(&events, now));
        }
        let room = self.room_after(&events, now);
        match command {
            Command::PlaceHold { .. } => events.extend(self.decide_place(command, &events, room, now)?),
            Command::Confirm { reservation_id, payment_ref } => {
                events.extend(self.decide_confirm(*reservation_id, payment_ref, room, now)?);
            }
            Command::Cancel { reservation_id } => events.extend(self.decide_cancel(*reservation_id, now)?),
            Command::RecordPayment { reservation_id, payment, prices } => {
                events.extend(self.decide_payment(*reservation_id, payment, prices, room, now)?);
            }
            Command::RecordRefund { reservation_id, payment_intent, refund_ids, refunded_minor } => {
                let id = *reservation_id;
                events.extend(self.decide_refund_settled(id, payment_intent, refund_ids, *refunded_minor, now)?);
            }
            Command::FailRefund { reservation_id, payment_intent, attempts, error } => {
                events.extend(self.decide_refund_failed(*reservation_id, payment_intent, *attempts, error, now)?);
            }
            Command::RetryRefunds { reservation_id, by } => {
                events.extend(self.decide_refunds_retried(*reservation_id, by, now)?);
            }
            Command::OpenCheckout { reservation_id, checkout } => {
                events.extend(self.decide_open_checkout(*reservation_id, checkout, now)?);
            }
            Command::CloseCheckout { reservation_id, session_id } => {
                events.extend(self.decide_close_checkout(*reservation_id, session_id, now)?);
            }
            Command::ChangeCapacity { capacity, by } => events.extend(self.decide_change_capacity(*capacity, by, now)?),
            Command::Release { reservation_id, by } => events.extend(self.decide_release(*reservation_id, by, now)?),
            Command::ExpireDue => {}
        }
        let served = self.serve_waitlist(&events, now);
        events.extend(served);
        Ok(events)
    }

    pub(super) fn check_hold(
        &self,
        id: ReservationId,
        quantity: u32,
        room: u32,
        now: DateTime<Utc>,
    ) -> Result<(), Rejection> {
        if quantity == 0 || quantity > RESERVATION_QUANTITY_MAX {
            return Err(Rejection::InvalidQuantity { got: quantity, max: RESERVATION_QUANTITY_MAX });
        }
        if now >= self.key.end() {
            return Err(Rejection::WindowEnded { end: self.key.end() });
        }
        if self.reservations.contains_key(&id) {
            return Err(Rejection::DuplicateReservation);
        }
        if self.reservations.len() >= RESERVATIONS_PER_WINDOW_MAX {
            return Err(Rejection::WindowFull);
        }
        if quantity > room {
            return Err(Rejection::SoldOut { available: room });
        }
        Ok(())
    }

    pub(super) fn decide_confirm(
        &self,
        id: ReservationId,
        payment_ref: &str,
        room: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        // A payment takes effect once: already confirming this reservation, or already
        // owed back, it changes nothing.
        if r.has_payment(payment_ref) {
            return Ok(None);
        }
        if r.status == ReservationStatus::Confirmed {
            return Err(Rejection::AlreadyConfirmed);
        }
        if r.status == ReservationStatus::Waitlisted {
            return Err(Rejection::NotActive { status: r.status });
        }
        let late = !r.is_live_hold(now);
        if late {
            if now >= self.key.end() {
                return Err(Rejection::WindowEnded { end: self.key.end() });
            }
            if r.quantity > room {
                return Err(Rejection::SoldOut { available: room });
            }
        }
        let payment_ref = payment_ref.to_owned();
        Ok(Some(WindowEvent::HoldConfirmed { reservation_id: id, payment_ref, confirmed_at: now, late }))
    }

    fn decide_cancel(&self, id: ReservationId, now: DateTime<Utc>) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        match r.status_at(now) {
            ReservationStatus::Held => Ok(Some(WindowEvent::HoldCancelled { reservation_id: id, cancelled_at: now })),
            ReservationStatus::Waitlisted => Ok(Some(WindowEvent::WaitlistLeft { reservation_id: id, left_at: now })),
            ReservationStatus::Cancelled => Ok(None),
            status => Err(Rejection::NotActive { status }),
        }
    }

    fn expiries_due(&self, now: DateTime<Utc>) -> Vec<WindowEvent> {
        self.due_holds(now).map(|(_, id)| WindowEvent::HoldExpired { reservation_id: *id, expired_at: now }).collect()
    }

    fn due_holds(&self, now: DateTime<Utc>) -> impl Iterator<Item = &(DateTime<Utc>, ReservationId)> {
        self.expiry_queue.iter().take_while(move |(at, _)| *at <= now)
    }

    fn due_quantity(&self, now: DateTime<Utc>) -> u32 {
        self.due_holds(now).map(|(_, id)| self.reservations[id].quantity).sum()
    }

    /// Folds one event in. Events come from `decide`, so a transition they describe is
    /// always legal; an illegal one means a corrupt log or a bug, and panics.
    pub fn apply(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::WindowOpened { capacity } => {
                assert!(!self.opened, "{}: WindowOpened twice", self.key);
                self.opened = true;
                self.capacity = *capacity;
            }
            WindowEvent::HoldPlaced { reservation_id, quantity, placed_at, expires_at, email } => {
                assert!(self.opened, "{}: HoldPlaced before WindowOpened", self.key);
                assert!(!self.reservations.contains_key(reservation_id), "{}: duplicate hold", self.key);
                self.held = self.held.checked_add(*quantity).expect("held slots fit in u32");
                self.expiry_queue.insert((*expires_at, *reservation_id));
                let mut reservation = Reservation::new(*reservation_id, *quantity, *placed_at, *expires_at);
                reservation.email = email.clone();
                self.reservations.insert(*reservation_id, reservation);
            }
            WindowEvent::HoldConfirmed { reservation_id, payment_ref, confirmed_at, .. } => {
                let quantity = self.end_hold_if_held(reservation_id, ReservationStatus::Confirmed);
                self.confirmed = self.confirmed.checked_add(quantity).expect("confirmed slots fit in u32");
                let r = self.reservations.get_mut(reservation_id).expect("end_hold_if_held checked presence");
                r.payment_ref = Some(payment_ref.clone());
                r.confirmed_at = Some(*confirmed_at);
            }
            WindowEvent::HoldCancelled { reservation_id, .. } => {
                self.end_hold(reservation_id, ReservationStatus::Cancelled);
            }
            WindowEvent::HoldExpired { reservation_id, .. } => {
                self.end_hold(reservation_id, ReservationStatus::Expired);
            }
            WindowEvent::RefundOwed { .. }
            | WindowEvent::RefundIssued { .. }
            | WindowEvent::RefundSettled { .. }
            | WindowEvent::RefundFailed { .. }
            | WindowEvent::RefundRetried { .. } => self.apply_refund(event),
            WindowEvent::CheckoutOpened { .. } | WindowEvent::CheckoutClosed { .. } => self.apply_checkout(event),
            WindowEvent::CapacityChanged { .. } | WindowEvent::HoldReleased { .. } => self.apply_operator(event),
            WindowEvent::WaitlistJoined { .. }
            | WindowEvent::WaitlistOffered { .. }
            | WindowEvent::WaitlistLeft { .. }
            | WindowEvent::WaitlistExpired { .. } => self.apply_waitlist(event),
        }
    }

    /// Moves a reservation out of `Held` (if it is held) into `next`; returns its quantity.
    fn end_hold_if_held(&mut self, id: &ReservationId, next: ReservationStatus) -> u32 {
        let r = self.reservations.get_mut(id).unwrap_or_else(|| panic!("{}: unknown reservation {id}", self.key));
        assert_ne!(r.status, ReservationStatus::Confirmed, "{}: {id} confirmed twice", self.key);
        if r.status == ReservationStatus::Held {
            assert!(self.expiry_queue.remove(&(r.expires_at, *id)), "held reservations are queued");
            self.held -= r.quantity;
        }
        r.status = next;
        r.quantity
    }

    pub(super) fn end_hold(&mut self, id: &ReservationId, next: ReservationStatus) {
        let status = self.reservations.get(id).map(|r| r.status);
        assert_eq!(status, Some(ReservationStatus::Held), "{}: {id} must be held to become {next}", self.key);
        self.end_hold_if_held(id, next);
    }
}
