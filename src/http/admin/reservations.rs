//! `POST /v1/admin/reservations/{id}/release`: end a live hold by hand (a customer at
//! the door who will not pay, a test booking); its slots are free at once.

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::authorize;
use super::dto::AdminReservationJson;
use crate::http::error::ErrorBody;
use crate::http::reservations::parse_id;
use crate::http::{ApiError, AppState};

#[utoipa::path(
    post,
    path = "/v1/admin/reservations/{id}/release",
    tag = "admin",
    operation_id = "admin_release_hold",
    summary = "Release a live hold by hand; recorded as an event naming the operator",
    description = "Releasing an already cancelled reservation changes nothing. A confirmed, expired or \
                   refunded one cannot be released (409).",
    params(
        ("id" = String, Path, description = "Reservation id", format = Uuid),
        ("X-Qskip-Operator" = Option<String>, Header, description = "Who is acting (default `admin`)"),
    ),
    responses(
        (status = 200, description = "The reservation, now `cancelled`", body = AdminReservationJson),
        (status = 400, description = "`invalid_operator`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
        (status = 404, description = "`reservation_not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed`, `hold_expired`, `reservation_refunded`", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn release(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let operator = authorize(&req, &state)?;
    let id = parse_id(&id)?;
    let view = state.services.operator.release(id, &operator.recorded_as).await?;
    tracing::info!(reservation = %id, operator = %operator.recorded_as, "hold released by hand");
    Ok(HttpResponse::Ok().json(AdminReservationJson::from(&view)))
}
