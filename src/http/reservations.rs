//! `POST /v1/venues/{venue}/reservations`, `GET /v1/reservations/{id}`,
//! `POST /v1/reservations/{id}/cancel`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::body::json_body;
use super::dto::{CreateReservationBody, ReservationJson};
use super::rate_limit::client_ip;
use super::{ApiError, AppState, method_not_allowed};
use crate::actors::Client;
use crate::domain::{ReservationId, ReservationView};
use crate::limits::JSON_BODY_BYTES_MAX;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/venues/{venue}/reservations").post(create).default_service(web::to(method_not_allowed)),
    )
    .service(web::resource("/v1/reservations/{id}").get(show).default_service(web::to(method_not_allowed)))
    .service(web::resource("/v1/reservations/{id}/cancel").post(cancel).default_service(web::to(method_not_allowed)));
}

/// A malformed id names no reservation, so it is a 404 like an unknown one.
pub fn parse_id(raw: &str) -> Result<ReservationId, ApiError> {
    raw.parse().map_err(|_| ApiError::reservation_not_found())
}

/// The JSON of a reservation, with its price and checkout link.
pub fn reservation_json(state: &AppState, view: &ReservationView) -> Result<ReservationJson, ApiError> {
    let venue = state.booking.venue(view.window.venue_id.as_str())?;
    let checkout_url = match (&view.checkout, state.dev_payments) {
        (Some(checkout), _) => checkout.url.clone(),
        (None, true) => format!("{}/dev/checkout/{}", state.public_url, view.id),
        (None, false) => String::new(),
    };
    Ok(ReservationJson::new(view, &venue, checkout_url))
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    venue: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let key = match req.headers().get("Idempotency-Key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_idempotency_key", "Idempotency-Key must be ASCII")
                })?
                .to_owned(),
        ),
    };
    let venue = state.booking.venue(&venue)?;
    let client = Client { ip: client_ip(&req, state.client_ip_header.as_deref()) };
    if let (Some(limit), Some(ip)) = (&state.rate_limit, client.ip) {
        limit.check(ip)?;
    }
    let body: CreateReservationBody = json_body(&req, payload, JSON_BODY_BYTES_MAX).await?;
    let view = match &state.checkout {
        Some(checkout) => checkout.reserve(&venue, body.into(), key, &client).await?,
        None => state.booking.reserve(venue.id.as_str(), body.into(), key, &client).await?,
    };
    Ok(HttpResponse::Created().json(reservation_json(&state, &view)?))
}

async fn show(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let view = state.booking.reservation(parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(reservation_json(&state, &view)?))
}

async fn cancel(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let view = state.booking.cancel(parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(reservation_json(&state, &view)?))
}
