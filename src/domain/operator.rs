//! What an operator (the admin API) may do to a window: change its capacity and release
//! a hold by hand. Both are events that name who did it.
//!
//! A capacity change never takes anything away: holds and confirmations stay. A window
//! whose committed slots exceed its new capacity is *overcommitted*; it grants nothing
//! (there is no room) until holds end and it drains below capacity. The invariant
//! "committed + granted <= capacity at every grant" therefore holds against the capacity
//! in force at the grant.

use chrono::{DateTime, Utc};

use super::{Rejection, ReservationId, ReservationStatus, Window, WindowEvent};

/// Who performed an operator action, as recorded in its event.
pub type Operator = String;

impl Window {
    /// A window with no events takes its capacity from the schedule when it opens, so a
    /// new schedule only needs to replace the capacity it would open with.
    pub fn reschedule_unopened(&mut self, capacity: u32) {
        assert!(!self.opened, "{}: an opened window changes capacity only by event", self.key);
        self.capacity = capacity;
    }

    pub(super) fn decide_change_capacity(
        &self,
        capacity: u32,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        if !self.opened {
            return Err(Rejection::WindowNotOpened);
        }
        if capacity == self.capacity {
            return Ok(None);
        }
        Ok(Some(WindowEvent::CapacityChanged { capacity, changed_at: now, by: by.to_owned() }))
    }

    pub(super) fn decide_release(
        &self,
        id: ReservationId,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        match r.status_at(now) {
            ReservationStatus::Held => {
                Ok(Some(WindowEvent::HoldReleased { reservation_id: id, released_at: now, by: by.to_owned() }))
            }
            ReservationStatus::Cancelled => Ok(None),
            status => Err(Rejection::NotActive { status }),
        }
    }

    pub(super) fn apply_operator(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::CapacityChanged { capacity, .. } => {
                assert!(self.opened, "{}: CapacityChanged before WindowOpened", self.key);
                self.capacity = *capacity;
            }
            WindowEvent::HoldReleased { reservation_id, .. } => {
                self.end_hold(reservation_id, ReservationStatus::Cancelled);
            }
            other => unreachable!("apply_operator only takes operator events, got {other:?}"),
        }
    }
}
