//! `GET /v1/venues`, `GET /v1/venues/{venue}`, `GET /v1/venues/{venue}/windows`.

use actix_web::{HttpResponse, web};

use super::client_time;
use super::dto::{VenueJson, WindowJson, WindowsQuery};
use super::error::ErrorBody;
use super::{ApiError, AppState, method_not_allowed};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/venues").get(list).default_service(web::to(method_not_allowed)))
        .service(web::resource("/v1/venues/{venue}").get(show).default_service(web::to(method_not_allowed)))
        .service(web::resource("/v1/venues/{venue}/windows").get(windows).default_service(web::to(method_not_allowed)));
}

#[utoipa::path(
    get,
    path = "/v1/venues",
    tag = "venues",
    operation_id = "list_venues",
    summary = "List the venues",
    responses((status = 200, description = "Every venue", body = Vec<VenueJson>)),
)]
async fn list(state: web::Data<AppState>) -> HttpResponse {
    let venues: Vec<VenueJson> = state.services.venues.all().iter().map(|v| VenueJson::from(&**v)).collect();
    HttpResponse::Ok().json(venues)
}

#[utoipa::path(
    get,
    path = "/v1/venues/{venue}",
    tag = "venues",
    operation_id = "get_venue",
    summary = "One venue and its schedule",
    params(("venue" = String, Path, description = "Venue id (a-z 0-9 - _)", example = "demo")),
    responses(
        (status = 200, description = "The venue", body = VenueJson),
        (status = 404, description = "`venue_not_found`", body = ErrorBody),
    ),
)]
async fn show(state: web::Data<AppState>, venue: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let venue = state.services.venues.find(&venue)?;
    Ok(HttpResponse::Ok().json(VenueJson::from(&*venue)))
}

#[utoipa::path(
    get,
    path = "/v1/venues/{venue}/windows",
    tag = "venues",
    operation_id = "list_windows",
    summary = "Availability of the venue's 15-minute windows",
    description = "Without `from` and `to`: the current window. Windows are UTC-aligned 15-minute intervals.",
    params(("venue" = String, Path, description = "Venue id", example = "demo"), WindowsQuery),
    responses(
        (status = 200, description = "The windows overlapping the range, in order", body = Vec<WindowJson>),
        (status = 400, description = "`invalid_query` (bad timestamp, unknown parameter)", body = ErrorBody),
        (status = 404, description = "`venue_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_range` (`to` not after `from`, more than 366 days from now, over 672 windows)", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`, `storage_error` (with `Retry-After`), `window_corrupt` (without)", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
async fn windows(
    state: web::Data<AppState>,
    venue: web::Path<String>,
    query: web::Query<WindowsQuery>,
) -> Result<HttpResponse, ApiError> {
    let venue = state.services.venues.find(&venue)?;
    let now = state.services.now();
    let (from, to) = (client_time::checked_opt(query.from, now)?, client_time::checked_opt(query.to, now)?);
    let windows = state.services.availability.windows(&venue, from, to).await?;
    let body: Vec<WindowJson> = windows.iter().map(|(key, counts)| WindowJson::new(key, counts)).collect();
    Ok(HttpResponse::Ok().json(body))
}
