//! Placing a reservation: a hold when the window has room and nobody queues for it;
//! otherwise, when the customer asked for it and the window could ever serve it, a
//! place at the tail of the waitlist (`waitlist.rs`); otherwise a refusal.

use chrono::{DateTime, Utc};

use super::{Command, Rejection, Window, WindowEvent};

impl Window {
    /// A hold if there is room and nobody queues; otherwise, when asked and possible, a
    /// place at the tail of the waitlist.
    pub(super) fn decide_place(
        &self,
        command: &Command,
        decided: &[WindowEvent],
        room: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<WindowEvent>, Rejection> {
        let Command::PlaceHold { reservation_id, quantity, hold_ttl, email, waitlist_offer_secs } = command else {
            unreachable!("decide_place only takes PlaceHold");
        };
        let room = if self.queue_waits_after(decided) { 0 } else { room };
        let mut events = Vec::with_capacity(2);
        if !self.opened {
            events.push(WindowEvent::WindowOpened { capacity: self.capacity });
        }
        match self.check_hold(*reservation_id, *quantity, room, now) {
            Ok(()) => events.push(WindowEvent::HoldPlaced {
                reservation_id: *reservation_id,
                quantity: *quantity,
                placed_at: now,
                expires_at: now + *hold_ttl,
                email: email.clone(),
            }),
            Err(Rejection::SoldOut { .. })
                if waitlist_offer_secs.is_some() && self.accepts_waitlist(*quantity, now) =>
            {
                events.push(WindowEvent::WaitlistJoined {
                    reservation_id: *reservation_id,
                    quantity: *quantity,
                    joined_at: now,
                    email: email.clone(),
                    offer_secs: waitlist_offer_secs.expect("checked by the guard"),
                });
            }
            Err(rejection) => return Err(rejection),
        }
        Ok(events)
    }
}
