//! The public JSON shapes (the README's "The API"; `/openapi.json` documents them). Times are RFC 3339 UTC, money is in
//! minor units. Fields may be added, never renamed or removed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::enums::{RefundReasonJson, ReservationStatusJson};
use crate::domain::{Refund, ReservationView, ReserveRequest, Venue, WindowCounts, WindowKey};

/// The body of `POST /v1/venues/{venue}/reservations`. Every field is optional; an empty
/// body means `{}`. Unknown fields are refused (`400 invalid_body`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReservationBody {
    /// Queue skips to hold, 1..=20 (default 1).
    #[schema(minimum = 1, maximum = 20, example = 2)]
    pub quantity: Option<u32>,
    /// Start of the 15-minute UTC window (default: the current window).
    #[schema(example = "2026-11-28T21:30:00Z")]
    pub window_start: Option<DateTime<Utc>>,
    /// The customer's e-mail (also keys the per-client limit on active holds).
    #[schema(example = "ana@example.com")]
    pub email: Option<String>,
    /// When the window is sold out, join its waitlist (`202`, `status: "waitlisted"`)
    /// instead of `409 sold_out`. A boolean; default `false`.
    #[schema(example = true)]
    #[serde(default, deserialize_with = "waitlist_flag")]
    pub waitlist: Option<bool>,
}

/// `waitlist` is a JSON boolean; anything else is refused with a message naming it
/// (serde's own would not say which field).
fn waitlist_flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(flag)) => Ok(Some(flag)),
        Some(_) => Err(serde::de::Error::custom("`waitlist` must be true or false")),
    }
}

impl From<CreateReservationBody> for ReserveRequest {
    fn from(body: CreateReservationBody) -> Self {
        let waitlist = body.waitlist.unwrap_or(false);
        Self { quantity: body.quantity, window_start: body.window_start, email: body.email, waitlist }
    }
}

/// A reservation: its hold, status, price and checkout link.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationJson {
    /// Random v4 UUID; whoever knows it can pay or cancel.
    #[schema(format = Uuid)]
    pub id: String,
    pub venue_id: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub quantity: u32,
    pub status: ReservationStatusJson,
    pub placed_at: DateTime<Utc>,
    /// When the hold ends unless paid; while `waitlisted`, when the window ends (and
    /// with it the queue).
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The dev checkout page or Stripe's; empty when there is none (always while
    /// `waitlisted`: there is nothing to pay until an offer).
    pub checkout_url: String,
    /// When the waitlist offered this reservation its slots (it is then `held` until
    /// `expires_at`); absent if it never queued or was not offered yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub offered_at: Option<DateTime<Utc>>,
    /// Place in the window's waitlist while `waitlisted`: 1 = next to be offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub position: Option<u32>,
    /// What the reservation costs, in minor units (cents): its quantity at the price in
    /// force when its hold was placed (a later price change does not alter it).
    pub amount_minor: u64,
    pub currency: String,
    /// Payments that go back: `refund_id` is null while the refund is owed.
    pub refunds: Vec<RefundJson>,
}

/// A payment that goes back to the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundJson {
    pub payment_intent: String,
    pub reason: RefundReasonJson,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    /// The refund at Stripe that settled it (the last, if several did).
    pub refund_id: Option<String>,
    /// `owed`, `failed` (Stripe kept refusing it; an operator will retry it: it is
    /// still owed) or `refunded`.
    #[schema(example = "owed")]
    pub state: &'static str,
    /// What the refunds at Stripe added up to, once refunded (when known).
    pub refunded_minor: Option<u64>,
}

impl ReservationJson {
    pub fn new(view: &ReservationView, checkout_url: String) -> Self {
        Self {
            id: view.id.to_string(),
            venue_id: view.window.venue_id.to_string(),
            window_start: view.window.start,
            window_end: view.window.end(),
            quantity: view.quantity,
            status: ReservationStatusJson(view.status),
            placed_at: view.placed_at,
            expires_at: view.expires_at,
            confirmed_at: view.confirmed_at,
            checkout_url,
            offered_at: view.offered_at,
            position: view.position,
            amount_minor: view.amount.total_minor(),
            currency: view.amount.currency.clone(),
            refunds: view
                .refunds
                .iter()
                .map(|r| RefundJson {
                    payment_intent: r.payment_intent.clone(),
                    reason: RefundReasonJson(r.reason),
                    amount_minor: r.amount_minor,
                    currency: r.currency.clone(),
                    refund_id: r.refund_id.clone(),
                    state: refund_state(r),
                    refunded_minor: r.refunded_minor,
                })
                .collect(),
        }
    }
}

/// The state of one refund, as the API names it.
pub fn refund_state(refund: &Refund) -> &'static str {
    match (refund.is_settled(), refund.is_failed()) {
        (true, _) => "refunded",
        (false, true) => "failed",
        (false, false) => "owed",
    }
}

/// One 15-minute sales window and its counts (`available = capacity - held - confirmed`,
/// never below 0).
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowJson {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
    pub held: u32,
    pub confirmed: u32,
    pub available: u32,
    /// More held + confirmed than capacity, after an operator cut the capacity. Nothing
    /// is taken back; the window grants no new hold until it drains.
    pub overcommitted: bool,
    /// Slots asked for by the window's waitlist (entries still queued). While it is
    /// not zero, `available` is 0: freed slots go to the queue first.
    pub waitlisted: u32,
}

impl WindowJson {
    pub fn new(key: &WindowKey, counts: &WindowCounts) -> Self {
        Self {
            start: key.start,
            end: key.end(),
            capacity: counts.capacity,
            held: counts.held,
            confirmed: counts.confirmed,
            available: counts.available,
            overcommitted: counts.overcommitted,
            waitlisted: counts.waitlisted,
        }
    }
}

/// Slots per hour for one local weekday and hour, overriding the venue's default.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideJson {
    #[schema(example = "fri")]
    pub weekday: String,
    pub hour: u8,
    pub slots_per_hour: u32,
}

/// A venue and its sales schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueJson {
    pub id: String,
    pub name: String,
    /// IANA time zone: the schedule is in local time.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    /// Price of one queue skip, in minor units (cents).
    pub price_minor: u64,
    pub currency: String,
    pub hold_ttl_secs: u32,
    pub slots_per_hour: u32,
    pub overrides: Vec<OverrideJson>,
}

impl From<&Venue> for VenueJson {
    fn from(v: &Venue) -> Self {
        let overrides = v.schedule.overrides().into_iter().map(|o| OverrideJson {
            weekday: o.weekday.to_string().to_lowercase(),
            hour: o.hour,
            slots_per_hour: o.slots_per_hour,
        });
        Self {
            id: v.id.to_string(),
            name: v.name.clone(),
            timezone: v.timezone.name().to_owned(),
            price_minor: v.price_minor,
            currency: v.currency.clone(),
            hold_ttl_secs: v.hold_ttl_secs,
            slots_per_hour: v.schedule.default_slots_per_hour(),
            overrides: overrides.collect(),
        }
    }
}

/// The range of `GET /v1/venues/{venue}/windows`: the windows overlapping `[from, to)`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowsQuery {
    /// Start of the range, RFC 3339 UTC (default: now).
    #[param(example = "2026-11-28T20:00:00Z")]
    pub from: Option<DateTime<Utc>>,
    /// End of the range, exclusive (default: just after `from`, i.e. one window). Both
    /// within 366 days of now, at most 672 windows.
    #[param(example = "2026-11-28T22:00:00Z")]
    pub to: Option<DateTime<Utc>>,
}
