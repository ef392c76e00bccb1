//! Typed errors of the Stripe API client, and the mapping from Stripe's error body
//! `{"error": {"type", "code", "message", "param"}}` (docs <https://docs.stripe.com/api/errors>).
//!
//! No variant carries the secret key: errors are logged and shown to operators.

use reqwest::StatusCode;
use serde::Deserialize;

use super::checkout::InvalidParams;

/// Why a Stripe call failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error status. `error_type` is Stripe's `type`
    /// (`invalid_request_error`, `api_error`, `card_error`, …).
    #[error("Stripe answered {status}: {}", message.as_deref().unwrap_or("(no message)"))]
    Api {
        status: u16,
        error_type: Option<String>,
        code: Option<String>,
        param: Option<String>,
        message: Option<String>,
        /// Stripe's `Request-Id` header, for support requests.
        request_id: Option<String>,
    },
    /// The idempotency key was used before with other parameters (`idempotency_error`):
    /// a bug on our side (the request was not rebuilt byte-identically), never retried.
    #[error("Stripe refused a reused idempotency key: {message}")]
    IdempotencyMismatch { status: u16, message: String },
    /// No answer: connection refused or reset, timeout, or the answer broke off.
    /// The request may or may not have reached Stripe.
    #[error("could not reach Stripe after {attempts} attempt(s): {source}")]
    Network {
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    /// A success status with a body that is not the object we expected.
    #[error("Stripe's answer could not be decoded: {0}")]
    Decode(#[source] serde_json::Error),
    #[error("Stripe's answer exceeds {max} bytes")]
    ResponseTooLarge { max: usize },
    #[error("idempotency key must be 1..={max} printable ASCII characters", max = crate::limits::IDEMPOTENCY_KEY_LEN_MAX)]
    InvalidIdempotencyKey,
    #[error("{what} is not a Stripe object id")]
    InvalidId { what: &'static str },
    #[error(transparent)]
    InvalidParams(#[from] InvalidParams),
    #[error("cannot build the Stripe client: {0}")]
    Setup(String),
}

impl StripeError {
    /// Whether a later call with the same idempotency key may succeed: no answer at all,
    /// a conflict, rate limiting or a Stripe-side failure. Callers that own a retry loop
    /// of their own (the refund worker) use this to decide between "retry later" and
    /// "give up".
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::Api { status, .. } => {
                let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                status == StatusCode::CONFLICT || status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            _ => false,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<String>,
    param: Option<String>,
    message: Option<String>,
}

/// The error for a non-success answer. A body that is not Stripe's error shape (a proxy's
/// HTML page) still gives an [`StripeError::Api`] with the status and no details.
pub(crate) fn from_response(status: StatusCode, body: &[u8], request_id: Option<String>) -> StripeError {
    let details = serde_json::from_slice::<Envelope>(body).ok().map(|envelope| envelope.error);
    let status = status.as_u16();
    match details {
        Some(ErrorBody { error_type: Some(kind), message, .. }) if kind == "idempotency_error" => {
            StripeError::IdempotencyMismatch { status, message: message.unwrap_or_default() }
        }
        Some(ErrorBody { error_type, code, param, message }) => {
            StripeError::Api { status, error_type, code, param, message, request_id }
        }
        None => StripeError::Api { status, error_type: None, code: None, param: None, message: None, request_id },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_stripes_error_body() {
        let body = br#"{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","param":"expires_at","message":"The expires_at timestamp must be at least 30 minutes from Checkout Session creation.","doc_url":"https://x"}}"#;
        let error = from_response(StatusCode::BAD_REQUEST, body, Some("req_1".into()));
        let StripeError::Api { status, error_type, code, param, message, request_id } = &error else {
            panic!("expected an API error, got {error:?}");
        };
        assert_eq!(*status, 400);
        assert_eq!(error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(code.as_deref(), Some("parameter_invalid_integer"));
        assert_eq!(param.as_deref(), Some("expires_at"));
        assert!(message.as_deref().is_some_and(|m| m.contains("30 minutes")));
        assert_eq!(request_id.as_deref(), Some("req_1"));
        assert!(!error.is_transient());
        assert!(error.to_string().contains("30 minutes"));
    }

    #[test]
    fn idempotency_error_has_its_own_variant() {
        let body = br#"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}"#;
        let error = from_response(StatusCode::BAD_REQUEST, body, None);
        assert!(matches!(error, StripeError::IdempotencyMismatch { status: 400, .. }), "{error:?}");
    }

    #[test]
    fn a_foreign_body_still_gives_the_status() {
        let error = from_response(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>", None);
        assert!(matches!(error, StripeError::Api { status: 502, message: None, .. }), "{error:?}");
        assert!(error.is_transient());
    }
}
