//! Webhook events: the minimal shape qskip reads, and the decision table that turns a
//! Checkout Session event into one action for the window actor (STRIPE.md 1.6, 1.7).
//!
//! Parse only after the signature verified. Every type ignores unknown fields (Stripe
//! adds fields without a new API version). The decision is pure; deduplication (on
//! `event.id`, since Stripe may deliver an event twice and in any order) belongs to the
//! domain, which records the event id with the outcome.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::objects::{expandable_id, null_as_empty};
use crate::limits::{CURRENCY_LEN_MAX, STRIPE_ID_LEN_MAX};

/// A Stripe event (`evt_…`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    /// The deduplication key (the signature changes on every delivery attempt).
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix seconds.
    pub created: i64,
    #[serde(default)]
    pub livemode: bool,
    pub data: EventData,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventData {
    /// The object the event is about; its shape depends on `type`.
    pub object: serde_json::Value,
}

/// The fields of a `checkout.session` object that the decision reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckoutSessionObject {
    pub id: String,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
    /// `pi_…`; null for a session abandoned before confirmation.
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    /// Minor units.
    #[serde(default)]
    pub amount_total: Option<i64>,
    /// Lowercase ISO code.
    #[serde(default)]
    pub currency: Option<String>,
}

/// The Checkout Session events qskip acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    Completed,
    AsyncPaymentSucceeded,
    AsyncPaymentFailed,
    Expired,
}

impl SessionEvent {
    pub fn from_type(event_type: &str) -> Option<Self> {
        match event_type {
            "checkout.session.completed" => Some(Self::Completed),
            "checkout.session.async_payment_succeeded" => Some(Self::AsyncPaymentSucceeded),
            "checkout.session.async_payment_failed" => Some(Self::AsyncPaymentFailed),
            "checkout.session.expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// What the service does with one event. Every variant is answered 2xx once handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAction {
    /// Paid: confirm the reservation (or, if the hold is gone and the window full,
    /// refund `payment_intent`). Amount and currency are checked against the order.
    Confirm {
        reservation_id: String,
        session_id: String,
        payment_intent: Option<String>,
        amount_total: Option<i64>,
        currency: Option<String>,
        event_id: String,
        created: i64,
    },
    /// The payment failed or the session expired: release the hold.
    Release { reservation_id: String, session_id: String, event_id: String },
    /// Completed with a delayed payment method: keep the reservation pending and wait for
    /// `async_payment_succeeded` / `async_payment_failed`.
    KeepWaiting { reservation_id: String, session_id: String, event_id: String },
    /// Nothing to do (logged with the reason).
    Ignore(IgnoreReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    /// Not a Checkout Session event qskip handles.
    UnhandledType(String),
    /// Neither `client_reference_id` nor `metadata.reservation_id`: not our session.
    NoReservationId,
    /// `client_reference_id` and `metadata.reservation_id` disagree: we set both to the
    /// same value, so this session was not made by us as we made it.
    ConflictingReservationIds,
    /// `no_payment_required`: qskip has no free flow, so this is an anomaly.
    NoPaymentRequired,
    /// A payment status the table has no row for (e.g. `async_payment_succeeded` unpaid).
    UnexpectedPaymentStatus(Option<String>),
}

/// The payload could not be read as a Stripe event of the expected shape.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("webhook payload is not a Stripe event qskip understands: {0}")]
    Json(#[from] serde_json::Error),
    /// A field qskip would keep is longer than any Stripe sends: refused before it can
    /// reach an event record (whose size is bounded).
    #[error("webhook field {field} is {len} bytes long; at most {max} are accepted")]
    TooLong { field: &'static str, len: usize, max: usize },
}

/// Parses a verified raw webhook body.
pub fn parse_event(payload: &[u8]) -> Result<Event, EventError> {
    Ok(serde_json::from_slice(payload)?)
}

/// The action for a parsed event: other types are ignored without reading the object.
pub fn action_for(event: &Event) -> Result<WebhookAction, EventError> {
    let Some(kind) = SessionEvent::from_type(&event.event_type) else {
        return Ok(WebhookAction::Ignore(IgnoreReason::UnhandledType(event.event_type.clone())));
    };
    let session = CheckoutSessionObject::deserialize(&event.data.object)?;
    check_lengths(event, &session)?;
    Ok(decide(kind, &event.id, event.created, &session))
}

/// Bounds every field of a session event that can end up in a record or a log line.
fn check_lengths(event: &Event, session: &CheckoutSessionObject) -> Result<(), EventError> {
    let fields = [
        ("id", Some(event.id.as_str()), STRIPE_ID_LEN_MAX),
        ("data.object.id", Some(session.id.as_str()), STRIPE_ID_LEN_MAX),
        ("payment_intent", session.payment_intent.as_deref(), STRIPE_ID_LEN_MAX),
        ("client_reference_id", session.client_reference_id.as_deref(), STRIPE_ID_LEN_MAX),
        ("metadata.reservation_id", session.metadata.get("reservation_id").map(String::as_str), STRIPE_ID_LEN_MAX),
        ("currency", session.currency.as_deref(), CURRENCY_LEN_MAX),
    ];
    for (field, value, max) in fields {
        let len = value.map_or(0, str::len);
        if len > max {
            return Err(EventError::TooLong { field, len, max });
        }
    }
    Ok(())
}

/// Parses a verified raw webhook body and decides what to do with it.
pub fn action_for_payload(payload: &[u8]) -> Result<WebhookAction, EventError> {
    action_for(&parse_event(payload)?)
}

/// The reservation a session belongs to: `client_reference_id`, else
/// `metadata.reservation_id` (we set both; either survives alone).
pub fn reservation_id(session: &CheckoutSessionObject) -> Result<&str, IgnoreReason> {
    let from_reference = session.client_reference_id.as_deref().filter(|id| !id.is_empty());
    let from_metadata = session.metadata.get("reservation_id").map(String::as_str).filter(|id| !id.is_empty());
    match (from_reference, from_metadata) {
        (Some(a), Some(b)) if a != b => Err(IgnoreReason::ConflictingReservationIds),
        (Some(id), _) | (None, Some(id)) => Ok(id),
        (None, None) => Err(IgnoreReason::NoReservationId),
    }
}

/// The decision table of STRIPE.md 1.7, as a pure function.
pub fn decide(kind: SessionEvent, event_id: &str, created: i64, session: &CheckoutSessionObject) -> WebhookAction {
    let reservation_id = match reservation_id(session) {
        Ok(id) => id.to_owned(),
        Err(reason) => return WebhookAction::Ignore(reason),
    };
    let session_id = session.id.clone();
    let event_id = event_id.to_owned();
    let paid = session.payment_status.as_deref() == Some("paid");
    match kind {
        SessionEvent::Completed | SessionEvent::AsyncPaymentSucceeded if paid => WebhookAction::Confirm {
            reservation_id,
            session_id,
            payment_intent: session.payment_intent.clone(),
            amount_total: session.amount_total,
            currency: session.currency.clone(),
            event_id,
            created,
        },
        SessionEvent::Completed => match session.payment_status.as_deref() {
            Some("unpaid") => WebhookAction::KeepWaiting { reservation_id, session_id, event_id },
            Some("no_payment_required") => WebhookAction::Ignore(IgnoreReason::NoPaymentRequired),
            other => WebhookAction::Ignore(IgnoreReason::UnexpectedPaymentStatus(other.map(str::to_owned))),
        },
        SessionEvent::AsyncPaymentSucceeded => {
            WebhookAction::Ignore(IgnoreReason::UnexpectedPaymentStatus(session.payment_status.clone()))
        }
        SessionEvent::AsyncPaymentFailed | SessionEvent::Expired => {
            WebhookAction::Release { reservation_id, session_id, event_id }
        }
    }
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
