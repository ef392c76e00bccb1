//! Domain <-> wire for the waitlist events (`WaitlistJoined`, `WaitlistOffered`,
//! `WaitlistLeft`, `WaitlistExpired`), kept apart from `convert` so each file stays
//! readable.

use super::convert::{InvalidRecord, invalid, micros, time};
use super::wire::WindowEventV1;
use crate::domain::{ReservationId, WindowEvent};

/// The wire form of a waitlist event; any other event is a caller's bug.
pub fn to_wire(event: &WindowEvent) -> WindowEventV1 {
    match event {
        WindowEvent::WaitlistJoined { reservation_id, quantity, joined_at, email, offer_secs } => {
            WindowEventV1::WaitlistJoined {
                reservation_id: *reservation_id.as_bytes(),
                quantity: *quantity,
                joined_at_us: micros(*joined_at),
                email: email.clone(),
                offer_secs: *offer_secs,
            }
        }
        WindowEvent::WaitlistOffered { reservation_id, offered_at, expires_at } => WindowEventV1::WaitlistOffered {
            reservation_id: *reservation_id.as_bytes(),
            offered_at_us: micros(*offered_at),
            expires_at_us: micros(*expires_at),
        },
        WindowEvent::WaitlistLeft { reservation_id, left_at } => {
            WindowEventV1::WaitlistLeft { reservation_id: *reservation_id.as_bytes(), left_at_us: micros(*left_at) }
        }
        WindowEvent::WaitlistExpired { reservation_id, expired_at } => WindowEventV1::WaitlistExpired {
            reservation_id: *reservation_id.as_bytes(),
            expired_at_us: micros(*expired_at),
        },
        other => unreachable!("convert_waitlist only takes waitlist events, got {other:?}"),
    }
}

/// The domain form of a waitlist event, refusing an offer that expires before it is made.
pub fn from_wire(event: WindowEventV1) -> Result<WindowEvent, InvalidRecord> {
    let id = ReservationId::from_bytes;
    Ok(match event {
        WindowEventV1::WaitlistJoined { reservation_id, quantity, joined_at_us, email, offer_secs } => {
            WindowEvent::WaitlistJoined {
                reservation_id: id(reservation_id),
                quantity,
                joined_at: time(joined_at_us)?,
                email,
                offer_secs,
            }
        }
        WindowEventV1::WaitlistOffered { reservation_id, offered_at_us, expires_at_us } => {
            if expires_at_us < offered_at_us {
                return Err(invalid("WaitlistOffered expires before it is offered"));
            }
            WindowEvent::WaitlistOffered {
                reservation_id: id(reservation_id),
                offered_at: time(offered_at_us)?,
                expires_at: time(expires_at_us)?,
            }
        }
        WindowEventV1::WaitlistLeft { reservation_id, left_at_us } => {
            WindowEvent::WaitlistLeft { reservation_id: id(reservation_id), left_at: time(left_at_us)? }
        }
        WindowEventV1::WaitlistExpired { reservation_id, expired_at_us } => {
            WindowEvent::WaitlistExpired { reservation_id: id(reservation_id), expired_at: time(expired_at_us)? }
        }
        other => unreachable!("convert_waitlist only takes waitlist events, got {other:?}"),
    })
}
