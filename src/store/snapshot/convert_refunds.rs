//! The refund states a V2 snapshot adds to V1 (what was refunded, which debts wait for
//! an operator), in and out of domain reservations.

use std::collections::BTreeMap;

use super::wire::{RefundFailureV2, RefundStateV2};
use crate::domain::{RefundFailure, Reservation, Window};
use crate::store::convert::{InvalidRecord, invalid, micros, time};

/// The refunds of `window` with something V1 cannot hold, in snapshot order.
pub fn refund_states(window: &Window) -> Vec<RefundStateV2> {
    let key = window.key();
    let mut states = Vec::new();
    for r in window.reservations() {
        for f in r.refunds.iter().filter(|f| f.refunded_minor.is_some() || f.failure.is_some()) {
            states.push(RefundStateV2 {
                venue_id: key.venue_id.as_str().to_owned(),
                start_us: micros(key.start),
                reservation_id: *r.id.as_bytes(),
                payment_intent: f.payment_intent.clone(),
                refunded_minor: f.refunded_minor,
                failure: f.failure.as_ref().map(|e| RefundFailureV2 {
                    attempts: e.attempts,
                    error: e.error.clone(),
                    failed_at_us: micros(e.failed_at),
                }),
            });
        }
    }
    states
}

/// Refund states grouped by window, keyed like `WindowSnapV1` (venue id, start).
pub type ByWindow = BTreeMap<(String, i64), Vec<RefundStateV2>>;

pub fn by_window(states: Vec<RefundStateV2>) -> ByWindow {
    let mut grouped = ByWindow::new();
    for state in states {
        grouped.entry((state.venue_id.clone(), state.start_us)).or_default().push(state);
    }
    grouped
}

/// Puts each state on its refund; a state naming no refund of the window is refused.
pub fn restore(reservations: &mut [Reservation], states: Vec<RefundStateV2>) -> Result<(), InvalidRecord> {
    for state in states {
        let r = reservations.iter_mut().find(|r| r.id.as_bytes() == &state.reservation_id);
        let refund = r.and_then(|r| r.refunds.iter_mut().find(|f| f.payment_intent == state.payment_intent));
        let refund = refund.ok_or_else(|| invalid("a refund state names no refund of its window"))?;
        refund.refunded_minor = state.refunded_minor;
        refund.failure = state
            .failure
            .map(|e| -> Result<RefundFailure, InvalidRecord> {
                Ok(RefundFailure { attempts: e.attempts, error: e.error, failed_at: time(e.failed_at_us)? })
            })
            .transpose()?;
    }
    Ok(())
}
