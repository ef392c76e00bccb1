//! The public JSON shapes (DESIGN.md section 7). Times are RFC 3339 UTC, money is in
//! minor units. Fields may be added, never renamed or removed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ReservationView, ReserveRequest, Venue, WindowCounts, WindowKey};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateReservationBody {
    pub quantity: Option<u32>,
    pub window_start: Option<DateTime<Utc>>,
    pub email: Option<String>,
}

impl From<CreateReservationBody> for ReserveRequest {
    fn from(body: CreateReservationBody) -> Self {
        Self { quantity: body.quantity, window_start: body.window_start, email: body.email }
    }
}

#[derive(Debug, Serialize)]
pub struct ReservationJson {
    pub id: String,
    pub venue_id: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub quantity: u32,
    pub status: &'static str,
    pub placed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checkout_url: String,
    pub amount_minor: u64,
    pub currency: String,
    /// Payments that go back: `refund_id` is null while the refund is owed.
    pub refunds: Vec<RefundJson>,
}

#[derive(Debug, Serialize)]
pub struct RefundJson {
    pub payment_intent: String,
    pub reason: &'static str,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub refund_id: Option<String>,
}

impl ReservationJson {
    pub fn new(view: &ReservationView, venue: &Venue, checkout_url: String) -> Self {
        Self {
            id: view.id.to_string(),
            venue_id: view.window.venue_id.to_string(),
            window_start: view.window.start,
            window_end: view.window.end(),
            quantity: view.quantity,
            status: view.status.as_str(),
            placed_at: view.placed_at,
            expires_at: view.expires_at,
            confirmed_at: view.confirmed_at,
            checkout_url,
            amount_minor: venue.price_minor.saturating_mul(u64::from(view.quantity)),
            currency: venue.currency.clone(),
            refunds: view
                .refunds
                .iter()
                .map(|r| RefundJson {
                    payment_intent: r.payment_intent.clone(),
                    reason: r.reason.as_str(),
                    amount_minor: r.amount_minor,
                    currency: r.currency.clone(),
                    refund_id: r.refund_id.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WindowJson {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
    pub held: u32,
    pub confirmed: u32,
    pub available: u32,
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
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OverrideJson {
    pub weekday: String,
    pub hour: u8,
    pub slots_per_hour: u32,
}

#[derive(Debug, Serialize)]
pub struct VenueJson {
    pub id: String,
    pub name: String,
    pub timezone: String,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowsQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
