//! `GET /v1/admin/venues/{venue}/windows/{start}/reservations`: one window's holds and
//! confirmations, as its actor knows them.

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::authorize;
use super::dto::WindowReservationsJson;
use crate::http::client_time;
use crate::http::error::ErrorBody;
use crate::http::{ApiError, AppState};

#[utoipa::path(
    get,
    path = "/v1/admin/venues/{venue}/windows/{start}/reservations",
    tag = "admin",
    operation_id = "admin_window_reservations",
    summary = "A window's counts and every reservation in it (holds, confirmations, ended ones)",
    params(
        ("venue" = String, Path, description = "Venue id", example = "demo"),
        ("start" = String, Path, description = "Window start, RFC 3339 UTC, on a 15-minute boundary",
         example = "2026-11-28T21:30:00Z"),
    ),
    responses(
        (status = 200, description = "The window and its reservations, oldest first", body = WindowReservationsJson),
        (status = 400, description = "`invalid_path`: `start` is not an RFC 3339 time", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
        (status = 404, description = "`venue_not_found`", body = ErrorBody),
        (status = 422, description = "`window_not_aligned`, `invalid_range` (more than 366 days from now)", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn reservations(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let (venue, start) = path.into_inner();
    let start = client_time::from_path("start", &start, state.services.now())?;
    let venue = state.services.venues.find(&venue)?;
    let (key, counts, views) = state.services.operator.window_reservations(&venue, start).await?;
    Ok(HttpResponse::Ok().json(WindowReservationsJson::new(&key, &counts, &views)))
}
