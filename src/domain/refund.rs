//! The life of a refund owed inside a window: owed, then settled at the provider, or
//! failed (the provider keeps refusing it) until an operator retries it.
//!
//! A debt is never dropped: `RefundFailed` only stops the automatic retries and puts the
//! debt in front of an operator; `RefundRetried` hands it back to the refund worker.
//! Only `RefundSettled` (or the older `RefundIssued`) ends it, recording which refunds
//! at the provider paid the money back and how much they add up to.

use chrono::{DateTime, Utc};

use super::{Refund, Rejection, ReservationId, Window, WindowEvent};

/// Why the refund worker stopped retrying a debt: an operator must look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFailure {
    /// Attempts made before giving up (1 for an error that retrying cannot fix).
    pub attempts: u32,
    /// The provider's last answer, for the operator.
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

impl Refund {
    /// Paid back at the provider: nothing is owed any more.
    pub fn is_settled(&self) -> bool {
        self.refund_id.is_some()
    }

    /// Still owed and waiting for an operator (the worker does not retry it).
    pub fn is_failed(&self) -> bool {
        !self.is_settled() && self.failure.is_some()
    }
}

impl Window {
    fn owed_refund(&self, id: ReservationId, intent: &str) -> Result<&Refund, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        r.refunds.iter().find(|f| f.payment_intent == intent).ok_or(Rejection::NoRefundOwed)
    }

    /// The provider paid the debt back with `refund_ids` (adding up to `refunded_minor`
    /// when known); a repeated report changes nothing.
    pub(super) fn decide_refund_settled(
        &self,
        id: ReservationId,
        intent: &str,
        refund_ids: &[String],
        refunded_minor: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        assert!(!refund_ids.is_empty(), "a refund is settled by at least one refund at the provider");
        if self.owed_refund(id, intent)?.is_settled() {
            return Ok(None);
        }
        Ok(Some(WindowEvent::RefundSettled {
            reservation_id: id,
            payment_intent: intent.to_owned(),
            refund_ids: refund_ids.to_vec(),
            refunded_minor,
            settled_at: now,
        }))
    }

    /// The worker gives up retrying a debt; nothing if it is settled or failed already.
    pub(super) fn decide_refund_failed(
        &self,
        id: ReservationId,
        intent: &str,
        attempts: u32,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<WindowEvent>, Rejection> {
        let refund = self.owed_refund(id, intent)?;
        if refund.is_settled() || refund.is_failed() {
            return Ok(None);
        }
        let error = error.to_owned();
        Ok(Some(WindowEvent::RefundFailed {
            reservation_id: id,
            payment_intent: intent.to_owned(),
            attempts,
            error,
            failed_at: now,
        }))
    }

    /// An operator hands every failed refund of a reservation back to the worker.
    pub(super) fn decide_refunds_retried(
        &self,
        id: ReservationId,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WindowEvent>, Rejection> {
        let r = self.reservations.get(&id).ok_or(Rejection::UnknownReservation)?;
        let retried: Vec<WindowEvent> = r
            .refunds
            .iter()
            .filter(|f| f.is_failed())
            .map(|f| WindowEvent::RefundRetried {
                reservation_id: id,
                payment_intent: f.payment_intent.clone(),
                retried_at: now,
                by: by.to_owned(),
            })
            .collect();
        if retried.is_empty() {
            return Err(Rejection::NoFailedRefund);
        }
        Ok(retried)
    }

    /// Folds the refund events; the hold's own state is untouched.
    pub(super) fn apply_refund(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, .. } => {
                let r = self.reservations.get_mut(reservation_id).expect("a refund is owed for a known reservation");
                assert!(!r.has_payment(payment_intent), "{reservation_id}: payment {payment_intent} counted twice");
                r.refunds.push(Refund {
                    payment_intent: payment_intent.clone(),
                    amount_minor: *amount_minor,
                    currency: currency.clone(),
                    reason: *reason,
                    refund_id: None,
                    refunded_minor: None,
                    failure: None,
                });
            }
            WindowEvent::RefundIssued { reservation_id, payment_intent, refund_id, .. } => {
                self.settle(reservation_id, payment_intent, refund_id, None);
            }
            WindowEvent::RefundSettled { reservation_id, payment_intent, refund_ids, refunded_minor, .. } => {
                let last = refund_ids.last().expect("RefundSettled names at least one refund");
                self.settle(reservation_id, payment_intent, last, *refunded_minor);
            }
            WindowEvent::RefundFailed { reservation_id, payment_intent, attempts, error, failed_at } => {
                let owed = self.unsettled_mut(reservation_id, payment_intent);
                assert!(owed.failure.is_none(), "{reservation_id}: refund of {payment_intent} failed twice");
                owed.failure = Some(RefundFailure { attempts: *attempts, error: error.clone(), failed_at: *failed_at });
            }
            WindowEvent::RefundRetried { reservation_id, payment_intent, .. } => {
                let owed = self.unsettled_mut(reservation_id, payment_intent);
                assert!(
                    owed.failure.take().is_some(),
                    "{reservation_id}: retry of {payment_intent}, which had not failed"
                );
            }
            other => unreachable!("apply_refund only takes refund events, got {other:?}"),
        }
    }

    fn unsettled_mut(&mut self, id: &ReservationId, intent: &str) -> &mut Refund {
        let r = self.reservations.get_mut(id).expect("refund events concern a known reservation");
        let owed = r.refunds.iter_mut().find(|f| f.payment_intent == intent);
        let owed = owed.expect("every refund event follows its RefundOwed");
        assert!(!owed.is_settled(), "{id}: refund of {intent} is settled already");
        owed
    }

    fn settle(&mut self, id: &ReservationId, intent: &str, refund_id: &str, refunded_minor: Option<u64>) {
        let owed = self.unsettled_mut(id, intent);
        owed.refund_id = Some(refund_id.to_owned());
        owed.refunded_minor = refunded_minor;
        owed.failure = None;
    }
}
