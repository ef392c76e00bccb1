//! The reference model: the decision table written out independently of `Window`.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct ModelRefund {
    pub(super) intent: String,
    pub(super) issued: bool,
    /// The worker gave up on it; an operator's retry clears it.
    pub(super) failed: bool,
}

#[derive(Debug, Clone)]
pub(super) struct ModelReservation {
    pub(super) quantity: u32,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) status: ReservationStatus,
    pub(super) payment_ref: Option<String>,
    pub(super) refunds: Vec<ModelRefund>,
    /// The checkout page as recorded: the one opened, and whether it was closed.
    pub(super) checkout: Option<Checkout>,
}

#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) capacity: u32,
    pub(super) opened: bool,
    pub(super) reservations: BTreeMap<ReservationId, ModelReservation>,
    /// The waitlist, head first: (reservation, quantity, offer seconds).
    pub(super) queue: Vec<(ReservationId, u32, u32)>,
}

impl Model {
    pub(super) fn is_live(r: &ModelReservation, now: DateTime<Utc>) -> bool {
        r.status == ReservationStatus::Held && now < r.expires_at
    }

    /// The payment already took effect on `r`: it confirmed it, or a refund exists for it.
    pub(super) fn has_payment(r: &ModelReservation, intent: &str) -> bool {
        r.payment_ref.as_deref() == Some(intent) || r.refunds.iter().any(|f| f.intent == intent)
    }

    pub(super) fn live_held(&self, now: DateTime<Utc>) -> u32 {
        self.reservations.values().filter(|r| Self::is_live(r, now)).map(|r| r.quantity).sum()
    }

    pub(super) fn confirmed(&self) -> u32 {
        let confirmed = self.reservations.values().filter(|r| r.status == ReservationStatus::Confirmed);
        confirmed.map(|r| r.quantity).sum()
    }

    pub(super) fn room(&self, now: DateTime<Utc>) -> u32 {
        self.capacity.saturating_sub(self.live_held(now) + self.confirmed())
    }

    /// The checkout page the session-expiry worker must close at `now`: open, and its
    /// hold no longer live (expired, recorded or not; cancelled; or paid for).
    pub(super) fn checkout_to_close(r: &ModelReservation, now: DateTime<Utc>) -> Option<&Checkout> {
        let hold_ended = match r.status {
            ReservationStatus::Held => now >= r.expires_at,
            ReservationStatus::Waitlisted => now >= r.expires_at,
            ReservationStatus::Expired | ReservationStatus::Cancelled | ReservationStatus::Confirmed => true,
            ReservationStatus::RefundOwed | ReservationStatus::Refunded => unreachable!("never stored"),
        };
        r.checkout.as_ref().filter(|c| !c.closed && hold_ended)
    }

    fn refund_mut(&mut self, id: &ReservationId, intent: &str) -> &mut ModelRefund {
        let r = self.reservations.get_mut(id).unwrap();
        r.refunds.iter_mut().find(|f| f.intent == intent).unwrap()
    }

    /// Every refund the model knows of, owed or issued, as (reservation, intent).
    pub(super) fn refunds(&self) -> Vec<(ReservationId, String)> {
        let each = self.reservations.iter().flat_map(|(id, r)| r.refunds.iter().map(|f| (*id, f.intent.clone())));
        each.collect()
    }

    /// What `decide` must answer, and (on success) the events in order.
    pub(super) fn expect(&self, command: &Command, now: DateTime<Utc>) -> Result<Vec<WindowEvent>, Rejection> {
        let end = key().end();
        let mut due: Vec<_> = self
            .reservations
            .iter()
            .filter(|(_, r)| r.status == ReservationStatus::Held && r.expires_at <= now)
            .map(|(id, r)| (r.expires_at, *id))
            .collect();
        due.sort();
        let mut events: Vec<_> =
            due.into_iter().map(|(_, id)| WindowEvent::HoldExpired { reservation_id: id, expired_at: now }).collect();
        if matches!(command, Command::PlaceHold { .. }) {
            events.extend(self.serve(&events, now));
        }
        let room = self.after(&events).room(now);
        match command {
            Command::PlaceHold { reservation_id, quantity, hold_ttl, email, waitlist_offer_secs } => {
                if now >= end {
                    return Err(Rejection::WindowEnded { end });
                }
                if self.reservations.contains_key(reservation_id) {
                    return Err(Rejection::DuplicateReservation);
                }
                let queue_waits = !self.after(&events).queue.is_empty();
                let room = if queue_waits { 0 } else { room };
                if !self.opened {
                    events.push(WindowEvent::WindowOpened { capacity: self.capacity });
                }
                if *quantity <= room {
                    events.push(WindowEvent::HoldPlaced {
                        reservation_id: *reservation_id,
                        quantity: *quantity,
                        placed_at: now,
                        expires_at: now + *hold_ttl,
                        email: email.clone(),
                    });
                } else if let Some(offer_secs) = waitlist_offer_secs.filter(|_| *quantity <= self.capacity) {
                    events.push(WindowEvent::WaitlistJoined {
                        reservation_id: *reservation_id,
                        quantity: *quantity,
                        joined_at: now,
                        email: email.clone(),
                        offer_secs,
                    });
                } else {
                    return Err(Rejection::SoldOut { available: room });
                }
            }
            Command::Confirm { reservation_id, payment_ref } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let confirmed = |late| WindowEvent::HoldConfirmed {
                    reservation_id: *reservation_id,
                    payment_ref: payment_ref.clone(),
                    confirmed_at: now,
                    late,
                };
                if r.status == ReservationStatus::Confirmed {
                    if r.payment_ref.as_ref() != Some(payment_ref) {
                        return Err(Rejection::AlreadyConfirmed);
                    }
                } else if r.status == ReservationStatus::Waitlisted {
                    return Err(Rejection::NotActive { status: ReservationStatus::Waitlisted });
                } else if Self::is_live(r, now) {
                    events.push(confirmed(false));
                } else if now >= end {
                    return Err(Rejection::WindowEnded { end });
                } else if r.quantity > room {
                    return Err(Rejection::SoldOut { available: room });
                } else {
                    events.push(confirmed(true));
                }
            }
            Command::RecordPayment { reservation_id, payment, .. } => {
                // Scripts run with one price for all time.
                let price = price();
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                if Self::has_payment(r, &payment.intent) {
                    let served = self.serve(&events, now);
                    events.extend(served);
                    return Ok(events);
                }
                let due = price.unit_minor * u64::from(r.quantity);
                let wrong_amount = payment.amount_minor.is_none_or(|paid| paid != due);
                let wrong_currency = payment.currency.as_ref().is_none_or(|c| !c.eq_ignore_ascii_case(&price.currency));
                let owed = |reason| WindowEvent::RefundOwed {
                    reservation_id: *reservation_id,
                    payment_intent: payment.intent.clone(),
                    amount_minor: payment.amount_minor,
                    currency: payment.currency.clone(),
                    reason,
                    owed_at: now,
                };
                let confirmed = |late| WindowEvent::HoldConfirmed {
                    reservation_id: *reservation_id,
                    payment_ref: payment.intent.clone(),
                    confirmed_at: now,
                    late,
                };
                events.push(if wrong_amount || wrong_currency {
                    owed(RefundReason::AmountMismatch)
                } else if r.status == ReservationStatus::Confirmed {
                    owed(RefundReason::AlreadyConfirmed)
                } else if r.status == ReservationStatus::Waitlisted && now < end {
                    owed(RefundReason::SoldOut)
                } else if r.status == ReservationStatus::Waitlisted {
                    owed(RefundReason::WindowEnded)
                } else if Self::is_live(r, now) {
                    confirmed(false)
                } else if now >= end {
                    owed(RefundReason::WindowEnded)
                } else if r.quantity > room {
                    owed(RefundReason::SoldOut)
                } else {
                    confirmed(true)
                });
            }
            Command::RecordRefund { reservation_id, payment_intent, refund_ids, refunded_minor } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let refund = r.refunds.iter().find(|f| &f.intent == payment_intent).ok_or(Rejection::NoRefundOwed)?;
                if !refund.issued {
                    events.push(WindowEvent::RefundSettled {
                        reservation_id: *reservation_id,
                        payment_intent: payment_intent.clone(),
                        refund_ids: refund_ids.clone(),
                        refunded_minor: *refunded_minor,
                        settled_at: now,
                    });
                }
            }
            Command::FailRefund { reservation_id, payment_intent, attempts, error } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let refund = r.refunds.iter().find(|f| &f.intent == payment_intent).ok_or(Rejection::NoRefundOwed)?;
                if !refund.issued && !refund.failed {
                    events.push(WindowEvent::RefundFailed {
                        reservation_id: *reservation_id,
                        payment_intent: payment_intent.clone(),
                        attempts: *attempts,
                        error: error.clone(),
                        failed_at: now,
                    });
                }
            }
            Command::RetryRefunds { reservation_id, by } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let retried: Vec<_> = r
                    .refunds
                    .iter()
                    .filter(|f| f.failed && !f.issued)
                    .map(|f| WindowEvent::RefundRetried {
                        reservation_id: *reservation_id,
                        payment_intent: f.intent.clone(),
                        retried_at: now,
                        by: by.clone(),
                    })
                    .collect();
                if retried.is_empty() {
                    return Err(Rejection::NoFailedRefund);
                }
                events.extend(retried);
            }
            Command::OpenCheckout { reservation_id, checkout } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match &r.checkout {
                    None => events.push(WindowEvent::CheckoutOpened {
                        reservation_id: *reservation_id,
                        checkout: Checkout { closed: false, ..checkout.clone() },
                        opened_at: now,
                    }),
                    // Open or closed, the recorded page reported again changes nothing.
                    Some(recorded) if recorded.session_id == checkout.session_id => {}
                    Some(_) => return Err(Rejection::CheckoutAlreadyOpen),
                }
            }
            Command::CloseCheckout { reservation_id, session_id } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match &r.checkout {
                    Some(recorded) if &recorded.session_id != session_id => return Err(Rejection::UnknownCheckout),
                    None => return Err(Rejection::UnknownCheckout),
                    Some(recorded) if recorded.closed => {}
                    Some(_) => events.push(WindowEvent::CheckoutClosed {
                        reservation_id: *reservation_id,
                        session_id: session_id.clone(),
                        closed_at: now,
                    }),
                }
            }
            Command::Cancel { reservation_id } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match r.status {
                    _ if Self::is_live(r, now) => {
                        events.push(WindowEvent::HoldCancelled { reservation_id: *reservation_id, cancelled_at: now })
                    }
                    ReservationStatus::Waitlisted if now < end => {
                        events.push(WindowEvent::WaitlistLeft { reservation_id: *reservation_id, left_at: now })
                    }
                    ReservationStatus::Waitlisted => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    ReservationStatus::Cancelled => {}
                    ReservationStatus::Held => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    status => return Err(Rejection::NotActive { status }),
                }
            }
            Command::Release { reservation_id, by } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match r.status {
                    _ if Self::is_live(r, now) => events.push(WindowEvent::HoldReleased {
                        reservation_id: *reservation_id,
                        released_at: now,
                        by: by.clone(),
                    }),
                    ReservationStatus::Cancelled => {}
                    ReservationStatus::Held => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    ReservationStatus::Waitlisted if now >= end => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    status => return Err(Rejection::NotActive { status }),
                }
            }
            Command::ChangeCapacity { capacity, by } => match (self.opened, *capacity == self.capacity) {
                (false, _) => return Err(Rejection::WindowNotOpened),
                (true, true) => {}
                (true, false) => {
                    events.push(WindowEvent::CapacityChanged { capacity: *capacity, changed_at: now, by: by.clone() })
                }
            },
            Command::ExpireDue => {}
        }
        let served = self.serve(&events, now);
        events.extend(served);
        Ok(events)
    }

    pub(super) fn apply(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::WindowOpened { .. } => self.opened = true,
            WindowEvent::HoldPlaced { reservation_id, quantity, expires_at, .. } => {
                let r = ModelReservation {
                    quantity: *quantity,
                    expires_at: *expires_at,
                    status: ReservationStatus::Held,
                    payment_ref: None,
                    refunds: Vec::new(),
                    checkout: None,
                };
                self.reservations.insert(*reservation_id, r);
            }
            WindowEvent::HoldConfirmed { reservation_id, payment_ref, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.status = ReservationStatus::Confirmed;
                r.payment_ref = Some(payment_ref.clone());
            }
            WindowEvent::HoldCancelled { reservation_id, .. } | WindowEvent::HoldReleased { reservation_id, .. } => {
                self.reservations.get_mut(reservation_id).unwrap().status = ReservationStatus::Cancelled;
            }
            WindowEvent::CapacityChanged { capacity, .. } => self.capacity = *capacity,
            WindowEvent::HoldExpired { reservation_id, .. } => {
                self.reservations.get_mut(reservation_id).unwrap().status = ReservationStatus::Expired;
            }
            WindowEvent::RefundOwed { reservation_id, payment_intent, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.refunds.push(ModelRefund { intent: payment_intent.clone(), issued: false, failed: false });
            }
            WindowEvent::RefundIssued { reservation_id, payment_intent, .. }
            | WindowEvent::RefundSettled { reservation_id, payment_intent, .. } => {
                let f = self.refund_mut(reservation_id, payment_intent);
                (f.issued, f.failed) = (true, false);
            }
            WindowEvent::RefundFailed { reservation_id, payment_intent, .. } => {
                self.refund_mut(reservation_id, payment_intent).failed = true;
            }
            WindowEvent::RefundRetried { reservation_id, payment_intent, .. } => {
                self.refund_mut(reservation_id, payment_intent).failed = false;
            }
            WindowEvent::CheckoutOpened { reservation_id, checkout, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                assert!(r.checkout.is_none(), "model: a second checkout opened");
                r.checkout = Some(checkout.clone());
            }
            WindowEvent::CheckoutClosed { reservation_id, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.checkout.as_mut().unwrap().closed = true;
            }
            WindowEvent::WaitlistJoined { .. }
            | WindowEvent::WaitlistOffered { .. }
            | WindowEvent::WaitlistLeft { .. }
            | WindowEvent::WaitlistExpired { .. } => self.apply_waitlist(event),
        }
    }
}
