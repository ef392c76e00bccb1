//! `POST /v1/venues/{venue}/reservations`, `GET /v1/reservations/{id}`,
//! `POST /v1/reservations/{id}/cancel`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::body::json_body;
use super::dto::{CreateReservationBody, ReservationJson};
use super::error::ErrorBody;
use super::rate_limit::client_ip;
use super::{ApiError, AppState, method_not_allowed};
use crate::domain::{ReservationId, ReservationStatus, ReservationView};
use crate::limits::JSON_BODY_BYTES_MAX;
use crate::service::Client;

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

/// The JSON of a reservation, with its checkout link.
pub fn reservation_json(state: &AppState, view: &ReservationView) -> Result<ReservationJson, ApiError> {
    let checkout_url = match (&view.checkout, state.dev_payments) {
        _ if view.status == ReservationStatus::Waitlisted => String::new(),
        (Some(checkout), _) => checkout.url.clone(),
        (None, true) => format!("{}/dev/checkout/{}", state.public_url, view.id),
        (None, false) => String::new(),
    };
    Ok(ReservationJson::new(view, checkout_url))
}

#[utoipa::path(
    post,
    path = "/v1/venues/{venue}/reservations",
    tag = "reservations",
    operation_id = "create_reservation",
    summary = "Reserve queue skips: place a hold that expires unless paid",
    description = "The hold is durable before the answer. Pay on `checkout_url`. A `503 busy` means the outcome \
                   is unknown: the hold may exist and expires on its own; retry with the same `Idempotency-Key`.",
    params(
        ("venue" = String, Path, description = "Venue id", example = "demo"),
        ("Idempotency-Key" = Option<String>, Header, description = "Up to 255 printable ASCII characters; make it \
          random (a UUID): whoever sends your key with your body gets your reservation. Keys are scoped by venue. \
          The same key with the same body returns the same answer, even after a restart; with another body it is \
          `422 idempotency_key_reused`; while the first request is in flight, `409 idempotency_in_progress`.",
          nullable = false, max_length = 255, example = "5b0e9a1c-order-17"),
    ),
    request_body(content = CreateReservationBody, content_type = "application/json",
                 description = "Optional (an empty body means `{}`); at most 16 KiB"),
    responses(
        (status = 201, description = "The hold was placed", body = ReservationJson),
        (status = 202, description = "Sold out, and `\"waitlist\": true` was asked: the reservation queues \
                                      (`status: \"waitlisted\"`, its `position`, no `checkout_url`); when slots \
                                      free up it becomes a `held` offer with `offered_at`, `expires_at` and a \
                                      `checkout_url`", body = ReservationJson),
        (status = 400, description = "`invalid_body`, `invalid_idempotency_key`", body = ErrorBody),
        (status = 404, description = "`venue_not_found`", body = ErrorBody),
        (status = 409, description = "`sold_out` (with `available`, and `waitlist: true` when the window would \
                                      queue the request), `window_full`, `idempotency_in_progress` \
                                      (with `Retry-After`)", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait, on `idempotency_in_progress`"))),
        (status = 413, description = "`payload_too_large` (over 16 KiB)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type` (a body that is not JSON)", body = ErrorBody),
        (status = 422, description = "`invalid_quantity`, `window_not_aligned`, `window_ended`, `beyond_horizon`, \
                                      `invalid_email`, `idempotency_key_reused`", body = ErrorBody),
        (status = 429, description = "`rate_limited`, `too_many_active_holds`", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "`busy` (outcome unknown), `unavailable`, `storage_error`, `window_corrupt`, \
                                      `payment_provider_unavailable` (nothing held)", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
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
    let venue = state.services.venues.find(&venue)?;
    let client = Client { ip: client_ip(&req, state.client_ip_header.as_deref()) };
    if let (Some(limit), Some(ip)) = (&state.rate_limit, client.ip) {
        limit.check(ip)?;
    }
    let body: CreateReservationBody = json_body(&req, payload, JSON_BODY_BYTES_MAX).await?;
    let view = match &state.checkout {
        Some(checkout) => checkout.reserve(&venue, body.into(), key, &client).await?,
        None => state.services.reservations.reserve(&venue, body.into(), key, &client).await?,
    };
    let json = reservation_json(&state, &view)?;
    match view.status {
        ReservationStatus::Waitlisted => Ok(HttpResponse::Accepted().json(json)),
        _ => Ok(HttpResponse::Created().json(json)),
    }
}

#[utoipa::path(
    get,
    path = "/v1/reservations/{id}",
    tag = "reservations",
    operation_id = "get_reservation",
    summary = "Follow a reservation",
    params(("id" = String, Path, description = "Reservation id (UUID)", format = Uuid)),
    responses(
        (status = 200, description = "The reservation", body = ReservationJson),
        (status = 404, description = "`reservation_not_found` (also for a malformed id)", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`, `storage_error`, `window_corrupt`", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
async fn show(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let view = state.services.reservations.reservation(parse_id(&id)?).await?;
    let view = match &state.checkout {
        Some(checkout) => checkout.open_offer_page(view).await?,
        None => view,
    };
    Ok(HttpResponse::Ok().json(reservation_json(&state, &view)?))
}

#[utoipa::path(
    post,
    path = "/v1/reservations/{id}/cancel",
    tag = "reservations",
    operation_id = "cancel_reservation",
    summary = "Cancel a held reservation, freeing its slots, or leave the waitlist",
    params(("id" = String, Path, description = "Reservation id (UUID)", format = Uuid)),
    responses(
        (status = 200, description = "The reservation, now `cancelled` (a waitlisted one leaves the queue)",
         body = ReservationJson),
        (status = 404, description = "`reservation_not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed`, `hold_expired`, `reservation_cancelled`, \
                                      `reservation_refunded`", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`, `storage_error`, `window_corrupt`", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
async fn cancel(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let view = state.services.reservations.cancel(parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(reservation_json(&state, &view)?))
}
