//! Who may use the admin API, and under which name their actions are recorded.
//!
//! One bearer token from the config (`admin_token`), compared in constant time so that
//! response timing tells nothing about how much of a guess was right. Without a token
//! the admin API is off and says so. The operator's name comes from the optional
//! `X-Qskip-Operator` header (default `admin`) and is written into every admin event:
//! the token says *may*, the name says *who*.

use actix_web::HttpRequest;
use actix_web::http::{StatusCode, header};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::http::{ApiError, AppState};
use crate::limits::OPERATOR_NAME_LEN_MAX;

pub const OPERATOR_HEADER: &str = "X-Qskip-Operator";
const OPERATOR_DEFAULT: &str = "admin";

/// An authenticated operator: proof that the request carried the admin token.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Recorded in events as `admin:<name>`.
    pub recorded_as: String,
}

/// Checks the bearer token and names the operator, or answers 401 / 403.
pub fn authorize(req: &HttpRequest, state: &AppState) -> Result<Operator, ApiError> {
    let Some(expected) = state.admin_token.as_ref().map(ExposeSecret::expose_secret) else {
        let message = "the admin API is disabled: set admin_token in the config (or QSKIP_ADMIN_TOKEN)";
        return Err(ApiError::new(StatusCode::FORBIDDEN, "admin_disabled", message));
    };
    let presented = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    let Some(presented) = presented else {
        return Err(unauthorized("send Authorization: Bearer <admin_token>"));
    };
    if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(unauthorized("the admin token is wrong"));
    }
    Ok(Operator { recorded_as: format!("admin:{}", operator_name(req)?) })
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn operator_name(req: &HttpRequest) -> Result<&str, ApiError> {
    let Some(value) = req.headers().get(OPERATOR_HEADER) else { return Ok(OPERATOR_DEFAULT) };
    let name = value.to_str().unwrap_or_default();
    let valid = !name.is_empty()
        && name.len() <= OPERATOR_NAME_LEN_MAX
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    match valid {
        true => Ok(name),
        false => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_operator",
            format!("{OPERATOR_HEADER} must be 1..={OPERATOR_NAME_LEN_MAX} characters of a-z A-Z 0-9 . _ @ -"),
        )),
    }
}
