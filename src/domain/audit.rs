//! Checks that an event may be applied to a window: the invariants over history.
//!
//! `apply` trusts its input (events come from `decide`) and panics on an illegal
//! transition. The replay tool reads logs it did not write - old, crafted, corrupt - so
//! it asks here first and reports a violation instead of panicking.

use super::{ReservationStatus, Window, WindowEvent};

/// Why an event cannot follow the window's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("window opened twice")]
    OpenedTwice,
    #[error("event before the window was opened")]
    NotOpened,
    #[error("hold for reservation {0} placed twice")]
    DuplicateHold(String),
    #[error("hold of {quantity} granted beyond capacity: {committed} committed of {capacity}")]
    OverCapacity { quantity: u32, committed: u32, capacity: u32 },
    #[error("late confirmation of {quantity} without room: {committed} committed of {capacity}")]
    LateConfirmWithoutRoom { quantity: u32, committed: u32, capacity: u32 },
    #[error("event for unknown reservation {0}")]
    UnknownReservation(String),
    #[error("reservation {id} is {status}; this event needs it held")]
    NotHeld { id: String, status: ReservationStatus },
    #[error("reservation {0} confirmed twice")]
    ConfirmedTwice(String),
    #[error("quantity must be at least 1")]
    ZeroQuantity,
    #[error("payment {0} took effect twice")]
    PaymentCountedTwice(String),
    #[error("refund of {0} issued but none is owed")]
    RefundNotOwed(String),
    #[error("refund of {0} marked failed twice")]
    RefundFailedTwice(String),
    #[error("refund of {0} retried but it had not failed")]
    RefundNotFailed(String),
    #[error("refund of {0} settled with no refund named")]
    RefundSettledWithoutRefund(String),
    #[error("a second checkout opened for reservation {0}")]
    CheckoutTwice(String),
    #[error("checkout {0} closed but it is not open")]
    CheckoutNotOpen(String),
    #[error("reservation {0} is not queued")]
    NotQueued(String),
    #[error("offer to {0} passes an earlier entry of the waitlist")]
    OfferOutOfOrder(String),
}

/// `committed + quantity <= capacity`, without overflow: a crafted log may carry any
/// quantity, and the sum must refuse it rather than wrap past the check (`apply` would
/// then panic on the counter; regression: fuzz/corpus/record_decode/crash_audit_*).
fn fits(committed: u32, quantity: u32, capacity: u32) -> bool {
    u64::from(committed) + u64::from(quantity) <= u64::from(capacity)
}

impl Window {
    /// `Ok` when `event` is a legal next event; the grant checks are the
    /// never-oversell invariant: a hold or late confirmation only with room.
    pub fn audit(&self, event: &WindowEvent) -> Result<(), Violation> {
        let committed = self.committed_recorded();
        let capacity = self.capacity();
        if matches!(event, WindowEvent::WindowOpened { .. }) {
            return if self.is_opened() { Err(Violation::OpenedTwice) } else { Ok(()) };
        }
        if !self.is_opened() {
            return Err(Violation::NotOpened);
        }
        match event {
            WindowEvent::WindowOpened { .. } => unreachable!("handled above"),
            WindowEvent::HoldPlaced { reservation_id, quantity, .. } => {
                if self.reservation(reservation_id).is_some() {
                    return Err(Violation::DuplicateHold(reservation_id.to_string()));
                }
                if *quantity == 0 {
                    return Err(Violation::ZeroQuantity);
                }
                if !fits(committed, *quantity, capacity) {
                    return Err(Violation::OverCapacity { quantity: *quantity, committed, capacity });
                }
                Ok(())
            }
            WindowEvent::HoldConfirmed { reservation_id, payment_ref, .. } => {
                let r = self
                    .reservation(reservation_id)
                    .ok_or_else(|| Violation::UnknownReservation(reservation_id.to_string()))?;
                if r.refunds.iter().any(|f| &f.payment_intent == payment_ref) {
                    return Err(Violation::PaymentCountedTwice(payment_ref.clone()));
                }
                match r.status {
                    ReservationStatus::Confirmed => Err(Violation::ConfirmedTwice(reservation_id.to_string())),
                    ReservationStatus::Held => Ok(()),
                    _ if !fits(committed, r.quantity, capacity) => {
                        Err(Violation::LateConfirmWithoutRoom { quantity: r.quantity, committed, capacity })
                    }
                    _ => Ok(()),
                }
            }
            WindowEvent::RefundOwed { reservation_id, payment_intent, .. } => {
                let r = self
                    .reservation(reservation_id)
                    .ok_or_else(|| Violation::UnknownReservation(reservation_id.to_string()))?;
                match r.has_payment(payment_intent) {
                    true => Err(Violation::PaymentCountedTwice(payment_intent.clone())),
                    false => Ok(()),
                }
            }
            WindowEvent::RefundIssued { .. }
            | WindowEvent::RefundSettled { .. }
            | WindowEvent::RefundFailed { .. }
            | WindowEvent::RefundRetried { .. } => self.audit_refund(event),
            WindowEvent::CheckoutOpened { reservation_id, .. } => match self.reservation(reservation_id) {
                None => Err(Violation::UnknownReservation(reservation_id.to_string())),
                Some(r) if r.checkout.is_some() => Err(Violation::CheckoutTwice(reservation_id.to_string())),
                Some(_) => Ok(()),
            },
            WindowEvent::CheckoutClosed { reservation_id, session_id, .. } => {
                let open = self.reservation(reservation_id).and_then(|r| r.checkout.as_ref());
                match open {
                    Some(c) if &c.session_id == session_id && !c.closed => Ok(()),
                    _ => Err(Violation::CheckoutNotOpen(session_id.clone())),
                }
            }
            WindowEvent::CapacityChanged { .. } => Ok(()),
            WindowEvent::WaitlistJoined { reservation_id, quantity, .. } => {
                if self.reservation(reservation_id).is_some() {
                    return Err(Violation::DuplicateHold(reservation_id.to_string()));
                }
                if *quantity == 0 {
                    return Err(Violation::ZeroQuantity);
                }
                Ok(())
            }
            WindowEvent::WaitlistOffered { .. }
            | WindowEvent::WaitlistLeft { .. }
            | WindowEvent::WaitlistExpired { .. } => self.audit_waitlist(event),
            WindowEvent::HoldCancelled { reservation_id, .. }
            | WindowEvent::HoldExpired { reservation_id, .. }
            | WindowEvent::HoldReleased { reservation_id, .. } => {
                let r = self
                    .reservation(reservation_id)
                    .ok_or_else(|| Violation::UnknownReservation(reservation_id.to_string()))?;
                match r.status {
                    ReservationStatus::Held => Ok(()),
                    status => Err(Violation::NotHeld { id: reservation_id.to_string(), status }),
                }
            }
        }
    }
}

impl Window {
    /// A queued entry leaves the queue only from it; an offer goes to the head only
    /// (strict FIFO) and only into room.
    fn audit_waitlist(&self, event: &WindowEvent) -> Result<(), Violation> {
        let id = match event {
            WindowEvent::WaitlistOffered { reservation_id, .. }
            | WindowEvent::WaitlistLeft { reservation_id, .. }
            | WindowEvent::WaitlistExpired { reservation_id, .. } => reservation_id,
            other => unreachable!("audit_waitlist only takes waitlist exits, got {other:?}"),
        };
        let Some(r) = self.reservation(id).filter(|r| r.status == ReservationStatus::Waitlisted) else {
            return Err(Violation::NotQueued(id.to_string()));
        };
        if let WindowEvent::WaitlistOffered { .. } = event {
            if self.waitlist().entries().next().map(|e| e.id) != Some(*id) {
                return Err(Violation::OfferOutOfOrder(id.to_string()));
            }
            let (committed, capacity) = (self.committed_recorded(), self.capacity());
            if !fits(committed, r.quantity, capacity) {
                return Err(Violation::OverCapacity { quantity: r.quantity, committed, capacity });
            }
        }
        Ok(())
    }

    /// A refund lifecycle event must concern a debt still unsettled, in the right state.
    fn audit_refund(&self, event: &WindowEvent) -> Result<(), Violation> {
        let (id, intent) = match event {
            WindowEvent::RefundIssued { reservation_id, payment_intent, .. }
            | WindowEvent::RefundSettled { reservation_id, payment_intent, .. }
            | WindowEvent::RefundFailed { reservation_id, payment_intent, .. }
            | WindowEvent::RefundRetried { reservation_id, payment_intent, .. } => (reservation_id, payment_intent),
            other => unreachable!("audit_refund only takes refund lifecycle events, got {other:?}"),
        };
        let r = self.reservation(id).ok_or_else(|| Violation::UnknownReservation(id.to_string()))?;
        let owed = r.refunds.iter().find(|f| &f.payment_intent == intent && !f.is_settled());
        let owed = owed.ok_or_else(|| Violation::RefundNotOwed(intent.clone()))?;
        match event {
            WindowEvent::RefundSettled { refund_ids, .. } if refund_ids.is_empty() => {
                Err(Violation::RefundSettledWithoutRefund(intent.clone()))
            }
            WindowEvent::RefundFailed { .. } if owed.failure.is_some() => {
                Err(Violation::RefundFailedTwice(intent.clone()))
            }
            WindowEvent::RefundRetried { .. } if owed.failure.is_none() => {
                Err(Violation::RefundNotFailed(intent.clone()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::{ReservationId, VenueId, WindowKey};

    #[test]
    fn a_quantity_that_overflows_the_count_is_over_capacity() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let key = WindowKey::new(VenueId::parse("v").expect("a valid id"), at);
        let mut window = Window::unopened(key, 0);
        window.apply(&WindowEvent::WindowOpened { capacity: u32::MAX });
        let hold = |id: u8, quantity| WindowEvent::HoldPlaced {
            reservation_id: ReservationId::from_bytes([id; 16]),
            quantity,
            placed_at: at,
            expires_at: at,
            email: None,
        };
        window.apply(&hold(1, 10));
        let overflowing = hold(2, u32::MAX - 5);
        assert!(matches!(window.audit(&overflowing), Err(Violation::OverCapacity { .. })));
    }
}
