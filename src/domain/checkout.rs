//! The provider's checkout page of a reservation (a Stripe Checkout Session).
//!
//! Stripe will not let a session expire sooner than 30 minutes after creation, so a page
//! can outlive its hold. The log records when a page opens and when it closes; while a
//! page is open but its hold has ended (expired or cancelled), the session-expiry worker
//! closes it at Stripe so that nobody pays for a dead hold. A payment that slips through
//! anyway is a late payment: confirmed if there is room, refunded otherwise.

use chrono::{DateTime, Utc};

use super::{Rejection, ReservationId, ReservationStatus, Window, WindowEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub session_id: String,
    /// The page the customer pays on.
    pub url: String,
    /// When the provider itself stops taking payment.
    pub expires_at: DateTime<Utc>,
    /// True once `CheckoutClosed` is recorded.
    pub closed: bool,
}

impl super::Reservation {
    /// An open checkout page whose hold has ended: it must be closed at the provider.
    pub fn checkout_to_close(&self, now: DateTime<Utc>) -> Option<&Checkout> {
        let ended = matches!(self.status_at(now), ReservationStatus::Expired | ReservationStatus::Cancelled);
        self.checkout.as_ref().filter(|c| !c.closed && (ended || self.status == ReservationStatus::Confirmed))
    }
}

impl Window {
    pub(super) fn decide_open_checkout(
        &self,
        id: ReservationId,
        checkout: &Checkout,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        match &r.checkout {
            // The same session reported twice (a retried call) changes nothing.
            Some(open) if open.session_id == checkout.session_id => Ok(None),
            Some(_) => Err(Rejection::CheckoutAlreadyOpen),
            None => {
                let checkout = Checkout { closed: false, ..checkout.clone() };
                Ok(Some(WindowEvent::CheckoutOpened { reservation_id: id, checkout, opened_at: now }))
            }
        }
    }

    pub(super) fn decide_close_checkout(
        &self,
        id: ReservationId,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        match &r.checkout {
            Some(c) if c.session_id == session_id && !c.closed => Ok(Some(WindowEvent::CheckoutClosed {
                reservation_id: id,
                session_id: session_id.to_owned(),
                closed_at: now,
            })),
            Some(c) if c.session_id == session_id => Ok(None),
            _ => Err(Rejection::UnknownCheckout),
        }
    }

    pub(super) fn apply_checkout(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::CheckoutOpened { reservation_id, checkout, .. } => {
                let r = self.reservations.get_mut(reservation_id).expect("a checkout opens for a known reservation");
                assert!(r.checkout.is_none(), "{reservation_id}: second checkout opened");
                r.checkout = Some(Checkout { closed: false, ..checkout.clone() });
            }
            WindowEvent::CheckoutClosed { reservation_id, .. } => {
                let r = self.reservations.get_mut(reservation_id).expect("a checkout closes for a known reservation");
                let checkout = r.checkout.as_mut().expect("CheckoutClosed follows CheckoutOpened");
                assert!(!checkout.closed, "{reservation_id}: checkout closed twice");
                checkout.closed = true;
            }
            other => unreachable!("apply_checkout only takes checkout events, got {other:?}"),
        }
    }
}
