//! Domain values <-> frozen wire shapes. Encoding cannot fail; decoding checks that the
//! bytes describe a valid domain value (known time zone, valid ids, times in range).

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;

use super::record::{IdempotencyEntry, IdempotentOutcome, Record};
use super::wire::*;
use crate::domain::{
    Checkout, HourOverride, RefundReason, ReservationId, ReserveRequest, Schedule, Venue, VenueEvent, VenueId,
    WindowEvent, WindowKey, is_window_aligned,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record is well-formed but invalid: {0}")]
pub struct InvalidRecord(pub String);

pub(crate) fn invalid(what: impl std::fmt::Display) -> InvalidRecord {
    InvalidRecord(what.to_string())
}

pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(us: i64) -> Result<DateTime<Utc>, InvalidRecord> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| invalid(format!("time {us} out of range")))
}

pub fn to_wire(recorded_at: DateTime<Utc>, record: &Record) -> StoredRecord {
    let body = match record {
        Record::Venue(VenueEvent::VenueRegistered(v)) => BodyV1::Venue(VenueEventV1::VenueRegistered(venue_to_wire(v))),
        Record::Venue(VenueEvent::VenueChanged { venue, by }) => {
            BodyV1::Venue(VenueEventV1::VenueChanged { venue: venue_to_wire(venue), by: by.clone() })
        }
        Record::Window(key, event) => BodyV1::Window { window: key_to_wire(key), event: event_to_wire(event) },
        Record::Idempotency(entry) if entry.request.waitlist => BodyV1::IdempotencyWaitlist(idempotency_to_wire(entry)),
        Record::Idempotency(entry) => BodyV1::Idempotency(idempotency_to_wire(entry)),
    };
    StoredRecord::V1(RecordV1 { recorded_at_us: micros(recorded_at), body })
}

pub fn from_wire(stored: StoredRecord) -> Result<(DateTime<Utc>, Record), InvalidRecord> {
    let StoredRecord::V1(RecordV1 { recorded_at_us, body }) = stored;
    let record = match body {
        BodyV1::Venue(VenueEventV1::VenueRegistered(v)) => {
            Record::Venue(VenueEvent::VenueRegistered(venue_from_wire(v)?))
        }
        BodyV1::Venue(VenueEventV1::VenueChanged { venue, by }) => {
            Record::Venue(VenueEvent::VenueChanged { venue: venue_from_wire(venue)?, by })
        }
        BodyV1::Window { window, event } => Record::Window(key_from_wire(window)?, event_from_wire(event)?),
        BodyV1::Idempotency(entry) => Record::Idempotency(idempotency_from_wire(entry, false)?),
        BodyV1::IdempotencyWaitlist(entry) => Record::Idempotency(idempotency_from_wire(entry, true)?),
    };
    Ok((time(recorded_at_us)?, record))
}

pub fn key_to_wire(key: &WindowKey) -> WindowKeyV1 {
    WindowKeyV1 { venue_id: key.venue_id.as_str().to_owned(), start_us: micros(key.start) }
}

pub fn key_from_wire(key: WindowKeyV1) -> Result<WindowKey, InvalidRecord> {
    let venue_id = VenueId::parse_owned(key.venue_id).map_err(invalid)?;
    let start = time(key.start_us)?;
    if !is_window_aligned(start) {
        return Err(invalid(format!("window start {start} not aligned")));
    }
    Ok(WindowKey::new(venue_id, start))
}

fn event_to_wire(event: &WindowEvent) -> WindowEventV1 {
    match event {
        WindowEvent::WindowOpened { capacity } => WindowEventV1::WindowOpened { capacity: *capacity },
        WindowEvent::HoldPlaced { reservation_id, quantity, placed_at, expires_at, email } => {
            WindowEventV1::HoldPlaced {
                reservation_id: *reservation_id.as_bytes(),
                quantity: *quantity,
                placed_at_us: micros(*placed_at),
                expires_at_us: micros(*expires_at),
                email: email.clone(),
            }
        }
        WindowEvent::HoldConfirmed { reservation_id, payment_ref, confirmed_at, late } => {
            WindowEventV1::HoldConfirmed {
                reservation_id: *reservation_id.as_bytes(),
                payment_ref: payment_ref.clone(),
                confirmed_at_us: micros(*confirmed_at),
                late: *late,
            }
        }
        WindowEvent::HoldCancelled { reservation_id, cancelled_at } => WindowEventV1::HoldCancelled {
            reservation_id: *reservation_id.as_bytes(),
            cancelled_at_us: micros(*cancelled_at),
        },
        WindowEvent::HoldExpired { reservation_id, expired_at } => WindowEventV1::HoldExpired {
            reservation_id: *reservation_id.as_bytes(),
            expired_at_us: micros(*expired_at),
        },
        WindowEvent::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, owed_at } => {
            WindowEventV1::RefundOwed {
                reservation_id: *reservation_id.as_bytes(),
                payment_intent: payment_intent.clone(),
                amount_minor: *amount_minor,
                currency: currency.clone(),
                reason: reason_to_wire(*reason),
                owed_at_us: micros(*owed_at),
            }
        }
        WindowEvent::CheckoutOpened { reservation_id, checkout, opened_at } => WindowEventV1::CheckoutOpened {
            reservation_id: *reservation_id.as_bytes(),
            session_id: checkout.session_id.clone(),
            url: checkout.url.clone(),
            expires_at_us: micros(checkout.expires_at),
            opened_at_us: micros(*opened_at),
        },
        WindowEvent::CheckoutClosed { reservation_id, session_id, closed_at } => WindowEventV1::CheckoutClosed {
            reservation_id: *reservation_id.as_bytes(),
            session_id: session_id.clone(),
            closed_at_us: micros(*closed_at),
        },
        WindowEvent::RefundIssued { reservation_id, payment_intent, refund_id, issued_at } => {
            WindowEventV1::RefundIssued {
                reservation_id: *reservation_id.as_bytes(),
                payment_intent: payment_intent.clone(),
                refund_id: refund_id.clone(),
                issued_at_us: micros(*issued_at),
            }
        }
        WindowEvent::CapacityChanged { capacity, changed_at, by } => {
            WindowEventV1::CapacityChanged { capacity: *capacity, changed_at_us: micros(*changed_at), by: by.clone() }
        }
        WindowEvent::HoldReleased { reservation_id, released_at, by } => WindowEventV1::HoldReleased {
            reservation_id: *reservation_id.as_bytes(),
            released_at_us: micros(*released_at),
            by: by.clone(),
        },
        WindowEvent::RefundSettled { .. } | WindowEvent::RefundFailed { .. } | WindowEvent::RefundRetried { .. } => {
            super::convert_refund::to_wire(event)
        }
        WindowEvent::WaitlistJoined { .. }
        | WindowEvent::WaitlistOffered { .. }
        | WindowEvent::WaitlistLeft { .. }
        | WindowEvent::WaitlistExpired { .. } => super::convert_waitlist::to_wire(event),
    }
}

fn event_from_wire(event: WindowEventV1) -> Result<WindowEvent, InvalidRecord> {
    let id = ReservationId::from_bytes;
    Ok(match event {
        WindowEventV1::WindowOpened { capacity } => WindowEvent::WindowOpened { capacity },
        WindowEventV1::HoldPlaced { reservation_id, quantity, placed_at_us, expires_at_us, email } => {
            WindowEvent::HoldPlaced {
                reservation_id: id(reservation_id),
                quantity,
                placed_at: time(placed_at_us)?,
                expires_at: time(expires_at_us)?,
                email,
            }
        }
        WindowEventV1::HoldConfirmed { reservation_id, payment_ref, confirmed_at_us, late } => {
            WindowEvent::HoldConfirmed {
                reservation_id: id(reservation_id),
                payment_ref,
                confirmed_at: time(confirmed_at_us)?,
                late,
            }
        }
        WindowEventV1::HoldCancelled { reservation_id, cancelled_at_us } => {
            WindowEvent::HoldCancelled { reservation_id: id(reservation_id), cancelled_at: time(cancelled_at_us)? }
        }
        WindowEventV1::HoldExpired { reservation_id, expired_at_us } => {
            WindowEvent::HoldExpired { reservation_id: id(reservation_id), expired_at: time(expired_at_us)? }
        }
        WindowEventV1::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, owed_at_us } => {
            WindowEvent::RefundOwed {
                reservation_id: id(reservation_id),
                payment_intent,
                amount_minor,
                currency,
                reason: reason_from_wire(reason),
                owed_at: time(owed_at_us)?,
            }
        }
        WindowEventV1::CheckoutOpened { reservation_id, session_id, url, expires_at_us, opened_at_us } => {
            let checkout = Checkout { session_id, url, expires_at: time(expires_at_us)?, closed: false };
            WindowEvent::CheckoutOpened { reservation_id: id(reservation_id), checkout, opened_at: time(opened_at_us)? }
        }
        WindowEventV1::CheckoutClosed { reservation_id, session_id, closed_at_us } => WindowEvent::CheckoutClosed {
            reservation_id: id(reservation_id),
            session_id,
            closed_at: time(closed_at_us)?,
        },
        WindowEventV1::RefundIssued { reservation_id, payment_intent, refund_id, issued_at_us } => {
            WindowEvent::RefundIssued {
                reservation_id: id(reservation_id),
                payment_intent,
                refund_id,
                issued_at: time(issued_at_us)?,
            }
        }
        WindowEventV1::CapacityChanged { capacity, changed_at_us, by } => {
            WindowEvent::CapacityChanged { capacity, changed_at: time(changed_at_us)?, by }
        }
        WindowEventV1::HoldReleased { reservation_id, released_at_us, by } => {
            WindowEvent::HoldReleased { reservation_id: id(reservation_id), released_at: time(released_at_us)?, by }
        }
        refund @ (WindowEventV1::RefundSettled { .. }
        | WindowEventV1::RefundFailed { .. }
        | WindowEventV1::RefundRetried { .. }) => super::convert_refund::from_wire(refund)?,
        waitlist @ (WindowEventV1::WaitlistJoined { .. }
        | WindowEventV1::WaitlistOffered { .. }
        | WindowEventV1::WaitlistLeft { .. }
        | WindowEventV1::WaitlistExpired { .. }) => super::convert_waitlist::from_wire(waitlist)?,
    })
}

pub(crate) fn reason_to_wire(reason: RefundReason) -> RefundReasonV1 {
    match reason {
        RefundReason::SoldOut => RefundReasonV1::SoldOut,
        RefundReason::WindowEnded => RefundReasonV1::WindowEnded,
        RefundReason::AlreadyConfirmed => RefundReasonV1::AlreadyConfirmed,
        RefundReason::AmountMismatch => RefundReasonV1::AmountMismatch,
    }
}

pub(crate) fn reason_from_wire(reason: RefundReasonV1) -> RefundReason {
    match reason {
        RefundReasonV1::SoldOut => RefundReason::SoldOut,
        RefundReasonV1::WindowEnded => RefundReason::WindowEnded,
        RefundReasonV1::AlreadyConfirmed => RefundReason::AlreadyConfirmed,
        RefundReasonV1::AmountMismatch => RefundReason::AmountMismatch,
    }
}

pub(crate) fn venue_to_wire(v: &Venue) -> VenueV1 {
    let overrides = v.schedule.overrides().into_iter().map(|o| HourOverrideV1 {
        weekday: o.weekday.num_days_from_monday() as u8,
        hour: o.hour,
        slots_per_hour: o.slots_per_hour,
    });
    VenueV1 {
        id: v.id.as_str().to_owned(),
        name: v.name.clone(),
        timezone: v.timezone.name().to_owned(),
        price_minor: v.price_minor,
        currency: v.currency.clone(),
        hold_ttl_secs: v.hold_ttl_secs,
        default_slots_per_hour: v.schedule.default_slots_per_hour(),
        overrides: overrides.collect(),
    }
}

pub(crate) fn venue_from_wire(v: VenueV1) -> Result<Venue, InvalidRecord> {
    let timezone: Tz = v.timezone.parse().map_err(|_| invalid(format!("unknown time zone {:?}", v.timezone)))?;
    let overrides = v
        .overrides
        .iter()
        .map(|o| {
            let weekday = Weekday::try_from(o.weekday).map_err(|_| invalid(format!("weekday {}", o.weekday)))?;
            Ok(HourOverride { weekday, hour: o.hour, slots_per_hour: o.slots_per_hour })
        })
        .collect::<Result<Vec<_>, InvalidRecord>>()?;
    // Built without `Venue::new`: its input limits may have tightened since the record
    // was written, and a record that was valid then must still load.
    let schedule = Schedule::restore(v.default_slots_per_hour, &overrides).map_err(invalid)?;
    let id = VenueId::parse(&v.id).map_err(invalid)?;
    let VenueV1 { name, price_minor, currency, hold_ttl_secs, .. } = v;
    Ok(Venue { id, name, timezone, price_minor, currency, hold_ttl_secs, schedule })
}

fn idempotency_to_wire(e: &IdempotencyEntry) -> IdempotencyV1 {
    let outcome = match &e.outcome {
        IdempotentOutcome::Reserved { window, reservation_id } => {
            IdempotentOutcomeV1::Reserved { window: key_to_wire(window), reservation_id: *reservation_id.as_bytes() }
        }
        IdempotentOutcome::SoldOut { available } => IdempotentOutcomeV1::SoldOut { available: *available },
    };
    IdempotencyV1 {
        key: e.key.clone(),
        venue_id: e.venue_id.as_str().to_owned(),
        quantity: e.request.quantity,
        window_start_us: e.request.window_start.map(micros),
        email: e.request.email.clone(),
        outcome,
    }
}

fn idempotency_from_wire(e: IdempotencyV1, waitlist: bool) -> Result<IdempotencyEntry, InvalidRecord> {
    let outcome = match e.outcome {
        IdempotentOutcomeV1::Reserved { window, reservation_id } => IdempotentOutcome::Reserved {
            window: key_from_wire(window)?,
            reservation_id: ReservationId::from_bytes(reservation_id),
        },
        IdempotentOutcomeV1::SoldOut { available } => IdempotentOutcome::SoldOut { available },
    };
    let window_start = e.window_start_us.map(time).transpose()?;
    Ok(IdempotencyEntry {
        key: e.key,
        venue_id: VenueId::parse(&e.venue_id).map_err(invalid)?,
        request: ReserveRequest { quantity: e.quantity, window_start, email: e.email, waitlist },
        outcome,
    })
}
