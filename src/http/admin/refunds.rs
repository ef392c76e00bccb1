//! Refunds an operator must see: `GET /v1/admin/refunds` lists every refund still owed
//! (`failed` ones are those Stripe kept refusing, which the worker no longer retries),
//! and `POST /v1/admin/reservations/{id}/refunds/retry` hands a reservation's failed
//! refunds back to the worker. Nothing owed is ever dropped: a failed refund stays
//! listed here until it is refunded.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::authorize;
use super::dto::AdminReservationJson;
use crate::http::enums::RefundReasonJson;
use crate::http::error::ErrorBody;
use crate::http::reservations::parse_id;
use crate::http::{ApiError, AppState};
use crate::store::OwedRefund;

/// A refund still owed.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwedRefundJson {
    #[schema(format = Uuid)]
    pub reservation_id: String,
    pub venue_id: String,
    pub window_start: DateTime<Utc>,
    pub payment_intent: String,
    /// What the payment took, which is owed back (null when Stripe did not say).
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub reason: RefundReasonJson,
    pub owed_at: DateTime<Utc>,
    /// `owed` (the worker is on it) or `failed` (waiting for an operator).
    #[schema(example = "failed")]
    pub state: &'static str,
    /// Attempts made before the worker gave up (`failed`).
    pub attempts: Option<u32>,
    /// Stripe's last answer (`failed`).
    pub error: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
}

impl From<&OwedRefund> for OwedRefundJson {
    fn from(debt: &OwedRefund) -> Self {
        let failure = debt.failure.as_ref();
        Self {
            reservation_id: debt.reservation_id.to_string(),
            venue_id: debt.window.venue_id.to_string(),
            window_start: debt.window.start,
            payment_intent: debt.payment_intent.clone(),
            amount_minor: debt.amount_minor,
            currency: debt.currency.clone(),
            reason: RefundReasonJson(debt.reason),
            owed_at: debt.owed_at,
            state: if failure.is_some() { "failed" } else { "owed" },
            attempts: failure.map(|f| f.attempts),
            error: failure.map(|f| f.error.clone()),
            failed_at: failure.map(|f| f.failed_at),
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/admin/refunds",
    tag = "admin",
    operation_id = "admin_owed_refunds",
    summary = "Every refund still owed, failed ones (waiting for an operator) first",
    responses(
        (status = 200, description = "Failed first, then oldest first", body = Vec<OwedRefundJson>),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
        (status = 503, description = "`unavailable`", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn owed(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let log = state.services.log().clone();
    // sled reads block: off the worker thread. A panic there is a bug; it stays a 500.
    let owed = web::block(move || log.owed_refunds()).await.map_err(actix_web::Error::from);
    let owed = owed.map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()))?;
    let owed = owed.map_err(crate::service::ServiceError::from)?;
    let mut owed: Vec<OwedRefundJson> = owed.iter().map(Into::into).collect();
    owed.sort_by_key(|r| (r.state != "failed", r.owed_at));
    Ok(HttpResponse::Ok().json(owed))
}

#[utoipa::path(
    post,
    path = "/v1/admin/reservations/{id}/refunds/retry",
    tag = "admin",
    operation_id = "admin_retry_refunds",
    summary = "Hand a reservation's failed refunds back to the refund worker; recorded as an event naming the operator",
    params(
        ("id" = String, Path, description = "Reservation id", format = Uuid),
        ("X-Qskip-Operator" = Option<String>, Header, description = "Who is acting (default `admin`)"),
    ),
    responses(
        (status = 200, description = "The reservation; its refunds are `owed` again", body = AdminReservationJson),
        (status = 400, description = "`invalid_operator`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
        (status = 404, description = "`reservation_not_found`", body = ErrorBody),
        (status = 409, description = "`no_failed_refund`", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let operator = authorize(&req, &state)?;
    let id = parse_id(&id)?;
    let view = state.services.payments.retry_refunds(id, operator.recorded_as.clone()).await?;
    tracing::info!(reservation = %id, operator = %operator.recorded_as, "failed refunds handed back to the worker");
    Ok(HttpResponse::Ok().json(AdminReservationJson::from(&view)))
}
