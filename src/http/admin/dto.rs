//! JSON shapes of the admin API. Operators see more than customers (e-mails, payment
//! references, who did what), so these are separate from the public `dto` shapes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::{OverrideSpec, VenueSpec};
use crate::domain::{ReservationView, WindowCounts, WindowKey};
use crate::http::dto::{VenueJson, WindowJson};
use crate::http::enums::ReservationStatusJson;

/// Slots per hour on some local weekdays and hours (same shape as the config file).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    #[schema(example = json!(["fri", "sat"]))]
    pub weekdays: Vec<String>,
    #[schema(example = json!([22, 23]))]
    pub hours: Vec<u8>,
    pub slots_per_hour: u32,
}

/// A venue's whole definition (same fields as a `[[venues]]` entry of the config file,
/// without `id`, which is in the path). It replaces the previous definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueBody {
    #[schema(example = "Club Nord")]
    pub name: String,
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    /// Price of one queue skip in minor units; applies to holds placed from now on.
    #[schema(example = 800)]
    pub price_minor: u64,
    #[schema(example = "eur")]
    pub currency: String,
    /// Default for every local hour; window capacity is `floor(slots_per_hour / 4)`.
    #[schema(example = 40)]
    pub slots_per_hour: u32,
    /// Default: the service's `hold_ttl_secs`.
    pub hold_ttl_secs: Option<u32>,
    #[serde(default)]
    pub overrides: Vec<OverrideBody>,
}

impl VenueBody {
    pub fn into_spec(self, id: String) -> VenueSpec {
        let overrides = self.overrides.into_iter().map(|o| OverrideSpec {
            weekdays: o.weekdays,
            hours: o.hours,
            slots_per_hour: o.slots_per_hour,
        });
        VenueSpec {
            id,
            name: self.name,
            timezone: self.timezone,
            price_minor: self.price_minor,
            currency: self.currency,
            slots_per_hour: self.slots_per_hour,
            hold_ttl_secs: self.hold_ttl_secs,
            overrides: overrides.collect(),
        }
    }
}

/// The venue after a change, and every window the change reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueChangeJson {
    pub venue: VenueJson,
    /// `created`, `changed` or `unchanged` (nothing recorded).
    #[schema(example = "changed")]
    pub outcome: &'static str,
    /// Windows from the current one on that already had reservations, with their new
    /// counts; `overcommitted` ones refuse new holds until they drain.
    pub windows: Vec<WindowJson>,
}

/// A reservation as an operator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminReservationJson {
    #[schema(format = Uuid)]
    pub id: String,
    pub quantity: u32,
    pub status: ReservationStatusJson,
    pub placed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub email: Option<String>,
    /// The payment that confirmed it (Stripe payment intent or dev reference).
    pub payment_ref: Option<String>,
    /// Refunds owed or issued for it.
    pub refunds_owed: usize,
}

impl From<&ReservationView> for AdminReservationJson {
    fn from(view: &ReservationView) -> Self {
        Self {
            id: view.id.to_string(),
            quantity: view.quantity,
            status: ReservationStatusJson(view.status),
            placed_at: view.placed_at,
            expires_at: view.expires_at,
            confirmed_at: view.confirmed_at,
            email: view.email.clone(),
            payment_ref: view.payment_ref.clone(),
            refunds_owed: view.refunds.iter().filter(|r| r.refund_id.is_none()).count(),
        }
    }
}

/// One window's counts and all its reservations, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowReservationsJson {
    pub window: WindowJson,
    pub reservations: Vec<AdminReservationJson>,
}

impl WindowReservationsJson {
    pub fn new(key: &WindowKey, counts: &WindowCounts, views: &[ReservationView]) -> Self {
        let mut reservations: Vec<AdminReservationJson> = views.iter().map(AdminReservationJson::from).collect();
        reservations.sort_by_key(|r| r.placed_at);
        Self { window: WindowJson::new(key, counts), reservations }
    }
}
