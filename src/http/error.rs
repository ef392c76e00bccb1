//! The one place where failures become HTTP responses: an [`ErrorBody`]
//! (`{error: {code, message}}`) with the right status, and `Retry-After` where a retry
//! can succeed. The body struct is both what is sent and what the API document shows.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Rejection;
use crate::limits::{ACTIVE_HOLDS_RETRY_AFTER_SECS, RETRY_AFTER_SECS};
use crate::payments::CheckoutError;
use crate::service::ServiceError;
use crate::service::availability::HubFull;
use crate::store::StoreError;

/// Every error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "sold_out", "message": "only 1 left in this window", "available": 1}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable machine-readable `code` and a human-readable `message`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable error code, e.g. `sold_out`, `venue_not_found`, `invalid_body`.
    #[schema(example = "sold_out")]
    pub code: &'static str,
    pub message: String,
    /// Slots still free; only on `sold_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub available: Option<u32>,
    /// `true` on a `sold_out` answer to a reservation when the window keeps a waitlist:
    /// the same request with `"waitlist": true` would queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub waitlist: Option<bool>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Slots still free, on `sold_out`.
    pub available: Option<u32>,
    /// The window would queue the request, on `sold_out` (see [`ErrorDetail`]).
    pub waitlist: Option<bool>,
    pub retry_after_secs: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), available: None, waitlist: None, retry_after_secs: None }
    }

    fn retry_later(mut self) -> Self {
        self.retry_after_secs = Some(RETRY_AFTER_SECS);
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 `not_ready` with `Retry-After`: the service cannot take requests yet (or any more).
    pub fn not_ready(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message).retry_later()
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take this method")
    }

    pub fn bad_query(e: impl fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", format!("invalid query string: {e}"))
    }

    pub fn bad_path(e: impl fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_path", format!("invalid path: {e}"))
    }

    pub fn reservation_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "reservation_not_found", "no reservation with this id")
    }

    fn rejected(rejection: Rejection) -> Self {
        let status = match &rejection {
            Rejection::SoldOut { .. }
            | Rejection::DuplicateReservation
            | Rejection::AlreadyConfirmed
            | Rejection::NotActive { .. }
            | Rejection::WindowFull => StatusCode::CONFLICT,
            Rejection::UnknownReservation | Rejection::NoRefundOwed | Rejection::UnknownCheckout => {
                StatusCode::NOT_FOUND
            }
            Rejection::CheckoutAlreadyOpen | Rejection::WindowNotOpened | Rejection::NoFailedRefund => {
                StatusCode::CONFLICT
            }
            Rejection::InvalidQuantity { .. }
            | Rejection::WindowNotAligned
            | Rejection::WindowEnded { .. }
            | Rejection::BeyondHorizon { .. }
            | Rejection::InvalidEmail => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let mut error = Self::new(status, rejection.code(), rejection.to_string());
        if let Rejection::SoldOut { available } = rejection {
            error.available = Some(available);
        }
        error
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::UnknownVenue(_) => Self::new(StatusCode::NOT_FOUND, "venue_not_found", message),
            ServiceError::ReservationNotFound => Self::reservation_not_found(),
            ServiceError::Rejected(rejection) => Self::rejected(rejection),
            ServiceError::SoldOut { available, waitlist } => {
                let mut error = Self::rejected(Rejection::SoldOut { available });
                error.waitlist = waitlist.then_some(true);
                error
            }
            ServiceError::BadIdempotencyKey => Self::new(StatusCode::BAD_REQUEST, "invalid_idempotency_key", message),
            ServiceError::IdempotencyKeyReused => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", message)
            }
            ServiceError::IdempotencyInProgress => {
                Self::new(StatusCode::CONFLICT, "idempotency_in_progress", message).retry_later()
            }
            ServiceError::Busy => Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message).retry_later(),
            ServiceError::Unavailable(_) => {
                tracing::error!(%message, "answering 503");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).retry_later()
            }
            ServiceError::WindowCorrupt { .. } | ServiceError::Store(StoreError::Corrupt { .. }) => {
                tracing::error!(%message, "answering 503 window_corrupt");
                // No Retry-After: a retry cannot help until an operator repairs the log.
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "window_corrupt", message)
            }
            ServiceError::TooManyActiveHolds { .. } => {
                let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_active_holds", message);
                error.retry_after_secs = Some(ACTIVE_HOLDS_RETRY_AFTER_SECS);
                error
            }
            ServiceError::TooManyVenues { .. } => Self::new(StatusCode::CONFLICT, "too_many_venues", message),
            ServiceError::RecordTooLarge { .. } => {
                tracing::warn!(%message, "refusing a request whose record is too large");
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "record_too_large", message)
            }
            ServiceError::BadRange(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_range", message),
            ServiceError::Store(error) => {
                tracing::error!(%error, "storage error");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage_error", "storage is unavailable").retry_later()
            }
        }
    }
}

impl From<HubFull> for ApiError {
    fn from(full: HubFull) -> Self {
        let message = full.to_string();
        match full {
            HubFull::Everyone => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_subscribers", message).retry_later()
            }
            HubFull::ThisClient { .. } => Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_streams", message),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> Self {
        match error {
            CheckoutError::Service(error) => error.into(),
            CheckoutError::Provider(_) => {
                // The provider's own message is logged, not shown: it is not the client's business.
                let message = "the payment provider cannot open a checkout page now; nothing was reserved, try again";
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "payment_provider_unavailable", message).retry_later()
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let (code, message, available, waitlist) = (self.code, self.message.clone(), self.available, self.waitlist);
        let error = ErrorDetail { code, message, available, waitlist };
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: tell the client which scheme the admin API takes.
            response.insert_header(("WWW-Authenticate", "Bearer realm=\"qskip-admin\""));
        }
        if let Some(secs) = self.retry_after_secs {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        response.json(ErrorBody { error })
    }
}
