//! `POST /v1/webhooks/stripe`: verify the signature on the raw bytes, then turn the
//! event into a payment or a release for the reservation's window actor.
//!
//! Stripe delivers at least once, in any order, and retries anything but a 2xx for days.
//! So: 2xx only once the outcome is durable (the actor answers after its journal flush);
//! 503 when the actor is busy, so Stripe retries; 2xx for events that are not ours or
//! need nothing, so Stripe stops. Each payment intent takes effect once (the domain
//! ignores a payment it has already counted), which makes redelivery harmless.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::body::raw_body;
use super::error::ErrorBody;
use super::{ApiError, AppState, method_not_allowed};
use crate::domain::{Payment, ReservationId};
use crate::limits::WEBHOOK_BODY_BYTES_MAX;
use crate::service::ServiceError;
use crate::stripe::{self, SIGNATURE_TOLERANCE_SECS_DEFAULT, WebhookAction};

/// The answer to a Stripe webhook delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceipt {
    /// Always `true`.
    pub received: bool,
    /// The reservation's status after the event, or `ignored`, `waiting`, `unknown_reservation`, or a
    /// rejection code.
    #[schema(example = "confirmed")]
    pub outcome: &'static str,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/webhooks/stripe").post(receive).default_service(web::to(method_not_allowed)));
}

#[utoipa::path(
    post,
    path = "/v1/webhooks/stripe",
    tag = "payments",
    operation_id = "stripe_webhook",
    summary = "Stripe webhook: checkout.session events confirm or release holds",
    description = "Served only when `[payments.stripe] webhook_secrets` are configured. The signature is checked on \
                   the raw bytes against every configured secret (300 s tolerance). `200` only once the outcome is \
                   durable; redeliveries change nothing.",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix time>,v1=<hex HMAC-SHA256>` as Stripe sends it")),
    request_body(content = Object, content_type = "application/json",
                 description = "A Stripe event, verified on its exact bytes; at most 256 KiB"),
    responses(
        (status = 200, description = "Received; `outcome` is the reservation's status, `ignored`, `waiting`, \
                                      `unknown_reservation` or a rejection code", body = WebhookReceipt),
        (status = 400, description = "`invalid_signature`, `invalid_event`, `invalid_body`", body = ErrorBody),
        (status = 413, description = "`payload_too_large` (over 256 KiB)", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable`, `storage_error`, `window_corrupt`: Stripe retries", body = ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
async fn receive(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = raw_body(&req, payload, WEBHOOK_BODY_BYTES_MAX).await?;
    let header = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let now = state.services.now().timestamp();
    stripe::signature::verify(&body, header, &state.webhook_secrets, now, SIGNATURE_TOLERANCE_SECS_DEFAULT)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_signature", e.to_string()))?;
    let action = stripe::event::action_for_payload(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_event", e.to_string()))?;
    tracing::info!(?action, "stripe webhook");
    let outcome = match action {
        WebhookAction::Confirm {
            reservation_id, session_id, payment_intent, amount_total, currency, created, ..
        } => {
            crate::telemetry::record_webhook_lag(created, state.services.now());
            let Ok(id) = reservation_id.parse::<ReservationId>() else { return Ok(received("unknown_reservation")) };
            // A paid session always has a payment intent; the session id is the fallback
            // key so that a malformed event still counts once.
            let intent = payment_intent.unwrap_or(session_id);
            let amount_minor = amount_total.and_then(|a| u64::try_from(a).ok());
            let payment = Payment { intent, amount_minor, currency };
            state.services.payments.record_payment(id, payment).await.map(|view| view.status.as_str())
        }
        WebhookAction::Release { reservation_id, .. } => {
            let Ok(id) = reservation_id.parse::<ReservationId>() else { return Ok(received("unknown_reservation")) };
            state.services.reservations.cancel(id).await.map(|view| view.status.as_str())
        }
        WebhookAction::KeepWaiting { .. } => Ok("waiting"),
        WebhookAction::Ignore(_) => Ok("ignored"),
    };
    match outcome {
        Ok(status) => Ok(received(status)),
        // Not ours, or a release of a hold that already ended: nothing to retry.
        Err(ServiceError::ReservationNotFound) => Ok(received("unknown_reservation")),
        Err(ServiceError::Rejected(rejection)) => Ok(received(rejection.code())),
        Err(other) => Err(other.into()),
    }
}

/// A 2xx answer: the event is done with (Stripe stops retrying), so it is counted.
fn received(outcome: &'static str) -> HttpResponse {
    crate::telemetry::record_webhook_event(outcome);
    HttpResponse::Ok().json(WebhookReceipt { received: true, outcome })
}
