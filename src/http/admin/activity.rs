//! `GET /v1/admin/venues/{venue}/activity`: the venue's recent sold-out refusals, late
//! payments and refunds, newest first, for the admin dashboard. It reads the bounded
//! in-memory ring the window actors feed (`actors::activity`) once each outcome is
//! durable; a restart starts it empty (the event log keeps the payments and refunds).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::authorize;
use crate::http::error::ErrorBody;
use crate::http::{ApiError, AppState};
use crate::service::operator::{Activity, ActivityKind};

/// One notable outcome. Fields that do not apply to a `kind` are null.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityJson {
    /// `sold_out` (a hold refused), `late_payment` (paid after the hold ended, still
    /// got a slot), `refund_owed`, `refund_issued`, `refund_failed`.
    #[schema(example = "sold_out")]
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub window_start: DateTime<Utc>,
    #[schema(format = Uuid)]
    pub reservation_id: Option<String>,
    /// Slots asked for (`sold_out`).
    pub requested: Option<u32>,
    /// Slots that were left (`sold_out`).
    pub available: Option<u32>,
    /// Why the money goes back (`refund_owed`).
    pub reason: Option<&'static str>,
    pub amount_minor: Option<u64>,
    /// The refund(s) at Stripe, comma-separated (`refund_issued`).
    pub refund_id: Option<String>,
    /// Stripe's last answer (`refund_failed`).
    pub error: Option<String>,
}

impl From<&Activity> for ActivityJson {
    fn from(a: &Activity) -> Self {
        let mut json = Self {
            kind: "",
            at: a.at,
            window_start: a.window_start,
            reservation_id: None,
            requested: None,
            available: None,
            reason: None,
            amount_minor: None,
            refund_id: None,
            error: None,
        };
        match &a.kind {
            ActivityKind::SoldOut { requested, available } => {
                (json.kind, json.requested, json.available) = ("sold_out", Some(*requested), Some(*available));
            }
            ActivityKind::LatePayment { reservation_id } => {
                (json.kind, json.reservation_id) = ("late_payment", Some(reservation_id.to_string()));
            }
            ActivityKind::RefundOwed { reservation_id, reason, amount_minor } => {
                (json.kind, json.reservation_id) = ("refund_owed", Some(reservation_id.to_string()));
                (json.reason, json.amount_minor) = (Some(reason.as_str()), *amount_minor);
            }
            ActivityKind::RefundIssued { reservation_id, refund_id } => {
                (json.kind, json.reservation_id) = ("refund_issued", Some(reservation_id.to_string()));
                json.refund_id = Some(refund_id.clone());
            }
            ActivityKind::RefundFailed { reservation_id, error } => {
                (json.kind, json.reservation_id) = ("refund_failed", Some(reservation_id.to_string()));
                json.error = Some(error.clone());
            }
        }
        json
    }
}

#[utoipa::path(
    get,
    path = "/v1/admin/venues/{venue}/activity",
    tag = "admin",
    operation_id = "admin_venue_activity",
    summary = "Recent sold-out refusals, late payments and refunds of a venue, newest first",
    description = "At most 200 per venue, kept in memory since the service started.",
    params(("venue" = String, Path, description = "Venue id", example = "demo")),
    responses(
        (status = 200, description = "Newest first", body = Vec<ActivityJson>),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
        (status = 404, description = "`venue_not_found`", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let venue = state.services.venues.find(&venue)?;
    let recent: Vec<ActivityJson> =
        state.services.operator.activity(&venue.id).iter().map(ActivityJson::from).collect();
    Ok(HttpResponse::Ok().json(recent))
}
