//! Domain state <-> frozen snapshot shapes. Encoding cannot fail; decoding checks that
//! the bytes describe valid domain values (ids, aligned windows, times in range, a
//! consistent window) so a well-formed but wrong snapshot is refused, not served.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::state::SnapshotState;
use super::wire::*;
use super::{convert_refunds, convert_waitlist};
use crate::domain::{Checkout, Refund, Reservation, ReservationId, ReservationStatus, Window, WindowKey};
use crate::store::convert::{
    InvalidRecord, invalid, key_from_wire, micros, reason_from_wire, reason_to_wire, time, venue_from_wire,
    venue_to_wire,
};
use crate::store::wire::WindowKeyV1;

/// Version tag of the log records snapshots are built from (`StoredRecord::V1`).
pub const RECORD_VERSION: u32 = 0;

/// `state` not tied to a log (tests, benchmarks; see `SnapshotV2::anchor_crc`).
pub fn to_wire(state: &SnapshotState) -> StoredSnapshot {
    to_wire_with(state, None)
}

/// `state` tied to its log by `anchor_crc` (see `SnapshotV2`): what the service writes.
pub fn to_wire_anchored(state: &SnapshotState, anchor_crc: u32) -> StoredSnapshot {
    to_wire_with(state, Some(anchor_crc))
}

fn to_wire_with(state: &SnapshotState, anchor_crc: Option<u32>) -> StoredSnapshot {
    let body = SnapshotV1 {
        last_seq: state.last_seq,
        record_version: RECORD_VERSION,
        taken_at_us: micros(state.taken_at),
        venues: state.venues.values().map(venue_to_wire).collect(),
        windows: state.windows.values().map(window_to_wire).collect(),
    };
    let refunds = state.windows.values().flat_map(convert_refunds::refund_states).collect();
    let v2 = SnapshotV2 { anchor_crc, body, refunds };
    let waitlists: Vec<_> = state.windows.values().filter_map(convert_waitlist::waitlist_state).collect();
    match waitlists.is_empty() {
        true => StoredSnapshot::V2(v2),
        false => StoredSnapshot::V3(SnapshotV3 { v2, waitlists }),
    }
}

/// The anchor a stored snapshot carries (`None`: a V1 snapshot, written before anchors,
/// or one not tied to a log).
pub fn anchor_of(stored: &StoredSnapshot) -> Option<u32> {
    match stored {
        StoredSnapshot::V1(_) => None,
        StoredSnapshot::V2(snapshot) | StoredSnapshot::V3(SnapshotV3 { v2: snapshot, .. }) => snapshot.anchor_crc,
    }
}

pub fn from_wire(stored: StoredSnapshot) -> Result<SnapshotState, InvalidRecord> {
    let (snapshot, refunds, waitlists) = match stored {
        StoredSnapshot::V1(snapshot) => (snapshot, Vec::new(), Vec::new()),
        StoredSnapshot::V2(SnapshotV2 { body, refunds, .. }) => (body, refunds, Vec::new()),
        StoredSnapshot::V3(SnapshotV3 { v2: SnapshotV2 { body, refunds, .. }, waitlists }) => {
            (body, refunds, waitlists)
        }
    };
    let mut refunds = convert_refunds::by_window(refunds);
    let mut waitlists = convert_waitlist::by_window(waitlists)?;
    let state = from_wire_v1(snapshot, &mut refunds, &mut waitlists)?;
    if !refunds.is_empty() || !waitlists.is_empty() {
        return Err(invalid("a refund or waitlist state names a window the snapshot does not hold"));
    }
    Ok(state)
}

fn from_wire_v1(
    snapshot: SnapshotV1,
    refunds: &mut convert_refunds::ByWindow,
    waitlists: &mut convert_waitlist::ByWindow,
) -> Result<SnapshotState, InvalidRecord> {
    if snapshot.record_version != RECORD_VERSION {
        return Err(invalid(format!("built from log record version {}", snapshot.record_version)));
    }
    let mut venues = BTreeMap::new();
    for venue in snapshot.venues {
        let venue = venue_from_wire(venue)?;
        venues.insert(venue.id.clone(), venue);
    }
    let mut windows = BTreeMap::new();
    for window in snapshot.windows {
        let at = (window.venue_id.clone(), window.start_us);
        let states = refunds.remove(&at).unwrap_or_default();
        let window = window_from_wire(window, states, waitlists.remove(&at))?;
        if windows.insert(window.key().clone(), window).is_some() {
            return Err(invalid("a window appears twice"));
        }
    }
    Ok(SnapshotState { last_seq: snapshot.last_seq, taken_at: time(snapshot.taken_at_us)?, venues, windows })
}

pub fn window_to_wire(window: &Window) -> WindowSnapV1 {
    WindowSnapV1 {
        venue_id: window.key().venue_id.as_str().to_owned(),
        start_us: micros(window.key().start),
        capacity: window.capacity(),
        opened: window.is_opened(),
        reservations: window.reservations().map(reservation_to_wire).collect(),
    }
}

/// A window from its V1 shape, the V2 states of its refunds and its V3 waitlist state.
pub fn window_from_wire(
    w: WindowSnapV1,
    refunds: Vec<RefundStateV2>,
    waitlist: Option<WaitlistStateV3>,
) -> Result<Window, InvalidRecord> {
    let key: WindowKey = key_from_wire(WindowKeyV1 { venue_id: w.venue_id, start_us: w.start_us })?;
    let mut reservations = w.reservations.into_iter().map(reservation_from_wire).collect::<Result<Vec<_>, _>>()?;
    convert_refunds::restore(&mut reservations, refunds)?;
    convert_waitlist::restore_offers(&mut reservations, waitlist.as_ref())?;
    let mut window = Window::restore(key, w.capacity, w.opened, reservations).map_err(invalid)?;
    // Always, so that a waitlisted reservation without its queue is refused.
    convert_waitlist::restore_queue(&mut window, waitlist)?;
    Ok(window)
}

fn status_to_wire(status: ReservationStatus) -> StatusV1 {
    match status {
        ReservationStatus::Held => StatusV1::Held,
        ReservationStatus::Confirmed => StatusV1::Confirmed,
        ReservationStatus::Expired => StatusV1::Expired,
        ReservationStatus::Cancelled => StatusV1::Cancelled,
        ReservationStatus::Waitlisted => StatusV1::Waitlisted,
        shown => unreachable!("a window stores only held/confirmed/expired/cancelled, not {shown}"),
    }
}

fn status_from_wire(status: StatusV1) -> ReservationStatus {
    match status {
        StatusV1::Held => ReservationStatus::Held,
        StatusV1::Confirmed => ReservationStatus::Confirmed,
        StatusV1::Expired => ReservationStatus::Expired,
        StatusV1::Cancelled => ReservationStatus::Cancelled,
        StatusV1::Waitlisted => ReservationStatus::Waitlisted,
    }
}

fn reservation_to_wire(r: &Reservation) -> ReservationSnapV1 {
    ReservationSnapV1 {
        id: *r.id.as_bytes(),
        quantity: r.quantity,
        placed_at_us: micros(r.placed_at),
        expires_at_us: micros(r.expires_at),
        email: r.email.clone(),
        status: status_to_wire(r.status),
        payment_ref: r.payment_ref.clone(),
        confirmed_at_us: r.confirmed_at.map(micros),
        refunds: r
            .refunds
            .iter()
            .map(|f| RefundSnapV1 {
                payment_intent: f.payment_intent.clone(),
                amount_minor: f.amount_minor,
                currency: f.currency.clone(),
                reason: reason_to_wire(f.reason),
                refund_id: f.refund_id.clone(),
            })
            .collect(),
        checkout: r.checkout.as_ref().map(|c| CheckoutSnapV1 {
            session_id: c.session_id.clone(),
            url: c.url.clone(),
            expires_at_us: micros(c.expires_at),
            closed: c.closed,
        }),
    }
}

fn reservation_from_wire(r: ReservationSnapV1) -> Result<Reservation, InvalidRecord> {
    let checkout = r
        .checkout
        .map(|c| -> Result<Checkout, InvalidRecord> {
            Ok(Checkout { session_id: c.session_id, url: c.url, expires_at: time(c.expires_at_us)?, closed: c.closed })
        })
        .transpose()?;
    let refunds = r
        .refunds
        .into_iter()
        .map(|f| Refund {
            payment_intent: f.payment_intent,
            amount_minor: f.amount_minor,
            currency: f.currency,
            reason: reason_from_wire(f.reason),
            refund_id: f.refund_id,
            refunded_minor: None,
            failure: None,
        })
        .collect();
    let confirmed_at: Option<DateTime<Utc>> = r.confirmed_at_us.map(time).transpose()?;
    Ok(Reservation {
        id: ReservationId::from_bytes(r.id),
        quantity: r.quantity,
        placed_at: time(r.placed_at_us)?,
        expires_at: time(r.expires_at_us)?,
        email: r.email,
        status: status_from_wire(r.status),
        payment_ref: r.payment_ref,
        confirmed_at,
        refunds,
        checkout,
        offered_at: None,
    })
}
