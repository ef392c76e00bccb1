//! `PUT /v1/admin/venues/{venue}`: create a venue or replace its definition.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::authorize;
use super::dto::{VenueBody, VenueChangeJson};
use crate::http::body::json_body;
use crate::http::dto::{VenueJson, WindowJson};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, AppState};
use crate::limits::JSON_BODY_BYTES_MAX;
use crate::service::venues::Saved;

#[utoipa::path(
    put,
    path = "/v1/admin/venues/{venue}",
    tag = "admin",
    operation_id = "admin_save_venue",
    summary = "Create a venue or replace its definition (schedule, price, time zone, hold TTL)",
    description = "Recorded as an event naming the operator. A schedule change reaches every window from the \
                   current one on that already has reservations: holds and confirmations are never taken back, \
                   and a window cut below what it has committed is `overcommitted` and refuses new holds until \
                   it drains. A new price applies to holds placed from now on. Repeating a request that \
                   answered 503 completes it.",
    params(
        ("venue" = String, Path, description = "Venue id (a-z 0-9 - _)", example = "nord"),
        ("X-Qskip-Operator" = Option<String>, Header, description = "Who is acting, recorded in the event \
          (default `admin`)", example = "ana"),
    ),
    request_body(content = VenueBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed (or unchanged)", body = VenueChangeJson),
        (status = 201, description = "Created", body = VenueChangeJson),
        (status = 400, description = "`invalid_body`, `invalid_operator`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or wrong bearer token", body = ErrorBody),
        (status = 403, description = "`admin_disabled`: no admin_token configured", body = ErrorBody),
        (status = 409, description = "`too_many_venues`", body = ErrorBody),
        (status = 422, description = "`invalid_venue` (unknown time zone, bad currency, ...)", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`: some windows were not reached; repeat the request", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let operator = authorize(&req, &state)?;
    let body: VenueBody = json_body(&req, payload, JSON_BODY_BYTES_MAX).await?;
    let venue = body
        .into_spec(venue.into_inner())
        .into_venue(state.hold_ttl_secs_default)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_venue", e.to_string()))?;
    let change = state.services.operator.save_venue(venue.clone(), &operator.recorded_as).await?;
    tracing::info!(venue = %venue.id, operator = %operator.recorded_as, outcome = ?change.saved, "venue saved");
    let (status, outcome) = match change.saved {
        Saved::Created => (StatusCode::CREATED, "created"),
        Saved::Changed => (StatusCode::OK, "changed"),
        Saved::Unchanged => (StatusCode::OK, "unchanged"),
    };
    let windows = change.windows.iter().map(|(key, counts)| WindowJson::new(key, counts)).collect();
    Ok(HttpResponse::build(status).json(VenueChangeJson { venue: VenueJson::from(&venue), outcome, windows }))
}
