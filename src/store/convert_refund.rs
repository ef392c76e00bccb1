//! Domain <-> wire for the refund lifecycle events added after the first release
//! (`RefundSettled`, `RefundFailed`, `RefundRetried`), kept apart from `convert` so
//! each file stays readable.

use super::convert::{InvalidRecord, invalid, micros, time};
use super::wire::WindowEventV1;
use crate::domain::{ReservationId, WindowEvent};

/// The wire form of a refund lifecycle event; any other event is a caller's bug.
pub fn to_wire(event: &WindowEvent) -> WindowEventV1 {
    match event {
        WindowEvent::RefundSettled { reservation_id, payment_intent, refund_ids, refunded_minor, settled_at } => {
            WindowEventV1::RefundSettled {
                reservation_id: *reservation_id.as_bytes(),
                payment_intent: payment_intent.clone(),
                refund_ids: refund_ids.clone(),
                refunded_minor: *refunded_minor,
                settled_at_us: micros(*settled_at),
            }
        }
        WindowEvent::RefundFailed { reservation_id, payment_intent, attempts, error, failed_at } => {
            WindowEventV1::RefundFailed {
                reservation_id: *reservation_id.as_bytes(),
                payment_intent: payment_intent.clone(),
                attempts: *attempts,
                error: error.clone(),
                failed_at_us: micros(*failed_at),
            }
        }
        WindowEvent::RefundRetried { reservation_id, payment_intent, retried_at, by } => WindowEventV1::RefundRetried {
            reservation_id: *reservation_id.as_bytes(),
            payment_intent: payment_intent.clone(),
            retried_at_us: micros(*retried_at),
            by: by.clone(),
        },
        other => unreachable!("convert_refund only takes refund lifecycle events, got {other:?}"),
    }
}

/// The domain form of a refund lifecycle event, refusing a settlement with no refund.
pub fn from_wire(event: WindowEventV1) -> Result<WindowEvent, InvalidRecord> {
    let id = ReservationId::from_bytes;
    Ok(match event {
        WindowEventV1::RefundSettled { reservation_id, payment_intent, refund_ids, refunded_minor, settled_at_us } => {
            if refund_ids.is_empty() {
                return Err(invalid("RefundSettled names no refund"));
            }
            WindowEvent::RefundSettled {
                reservation_id: id(reservation_id),
                payment_intent,
                refund_ids,
                refunded_minor,
                settled_at: time(settled_at_us)?,
            }
        }
        WindowEventV1::RefundFailed { reservation_id, payment_intent, attempts, error, failed_at_us } => {
            WindowEvent::RefundFailed {
                reservation_id: id(reservation_id),
                payment_intent,
                attempts,
                error,
                failed_at: time(failed_at_us)?,
            }
        }
        WindowEventV1::RefundRetried { reservation_id, payment_intent, retried_at_us, by } => {
            WindowEvent::RefundRetried {
                reservation_id: id(reservation_id),
                payment_intent,
                retried_at: time(retried_at_us)?,
                by,
            }
        }
        other => unreachable!("convert_refund only takes refund lifecycle events, got {other:?}"),
    })
}
