//! Bounded JSON request bodies with JSON errors: 413 when too large, 408 when not all
//! there within `REQUEST_BODY_TIMEOUT_MS`, 415 when not JSON, 400 when malformed or
//! carrying unknown fields. An empty body means `{}`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::limits::REQUEST_BODY_TIMEOUT_MS;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("request body exceeds {limit} bytes"))
}

/// Reads at most `limit` bytes of body and parses it as `T`.
pub async fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    let mut body = raw_body(req, payload, limit).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        body = web::BytesMut::from(&b"{}"[..]);
    } else if !is_json(req) {
        let message = "send the body as Content-Type: application/json";
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message));
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("invalid JSON body: {e}")))
}

/// Reads the body as sent (a webhook signature covers the exact bytes), at most `limit`.
pub async fn raw_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    // The head has its own deadline (actix's client request timeout); this one bounds
    // the body, so a client trickling bytes cannot hold a connection and a worker.
    let deadline = std::time::Duration::from_millis(REQUEST_BODY_TIMEOUT_MS);
    tokio::time::timeout(deadline, read).await.unwrap_or_else(|_elapsed| {
        let message = format!("the request body did not arrive within {REQUEST_BODY_TIMEOUT_MS} ms");
        Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", message))
    })
}

fn is_json(req: &HttpRequest) -> bool {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}
