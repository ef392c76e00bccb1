//! The outgoing Stripe API client: the four calls qskip makes, with explicit timeouts,
//! an `Idempotency-Key` on every POST and the official client's retry policy.
//!
//! Every POST body is encoded once, before the first attempt, and the same bytes are sent
//! on every retry: Stripe compares a replayed key's parameters with the first request's
//! and answers `idempotency_error` if they differ (STRIPE.md 1.4). Headers follow
//! stripe-python's `_api_requestor.py`: `Authorization: Bearer`, and
//! `Content-Type: application/x-www-form-urlencoded` on every POST, even an empty one.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Response, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::checkout::{CheckoutSessionParams, InvalidParams};
use super::error::{self, StripeError};
use super::form::{Form, Param};
use super::objects::{CheckoutSession, List, Refund};
use super::retry::{self, RetryPolicy};
use super::{API_BASE_DEFAULT, REFUNDS_PAGE_LIMIT};
use crate::limits::{
    IDEMPOTENCY_KEY_LEN_MAX, STRIPE_CONNECT_TIMEOUT_SECS, STRIPE_OBJECT_ID_LEN_MAX as OBJECT_ID_LEN_MAX,
    STRIPE_REQUEST_TIMEOUT_SECS, STRIPE_RESPONSE_BYTES_MAX as RESPONSE_BYTES_MAX,
};

/// Longest wait for a TCP + TLS connection to Stripe.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(STRIPE_CONNECT_TIMEOUT_SECS);

/// Longest wait for one whole attempt (connect, send, read the answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(STRIPE_REQUEST_TIMEOUT_SECS);

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

// A create-session request computed `expires_at` = now + 30 min + margin before its first
// attempt; all attempts with their waits must end within the margin, or a late attempt
// that is the first to reach Stripe would be refused as "less than 30 minutes".
const _: () = {
    let attempts = retry::MAX_RETRIES_DEFAULT as u64 + 1;
    let worst_ms =
        attempts * REQUEST_TIMEOUT.as_millis() as u64 + (attempts - 1) * retry::MAX_DELAY_DEFAULT.as_millis() as u64;
    assert!(worst_ms < super::SESSION_EXPIRY_MARGIN_SECS as u64 * 1000);
};

/// How to reach Stripe.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://api.stripe.com`, or a local fake in tests.
    pub api_base: String,
    /// The secret API key (`sk_…` or `rk_…`).
    pub secret_key: SecretString,
    pub retry: RetryPolicy,
    /// Sent as `Stripe-Version` when set; otherwise the account's default version applies.
    pub stripe_version: Option<String>,
}

impl ClientConfig {
    pub fn new(secret_key: SecretString) -> Self {
        Self { api_base: API_BASE_DEFAULT.to_owned(), secret_key, retry: RetryPolicy::default(), stripe_version: None }
    }
}

/// One logical call; its body (if any) is final before the first attempt.
struct Call<'a> {
    method: Method,
    url: Url,
    /// Encoded form and idempotency key of a POST.
    post: Option<(String, &'a str)>,
}

/// The Stripe API client. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    api_base: Url,
    config: ClientConfig,
}

impl StripeClient {
    /// Builds the client. Installs rustls' ring provider first: reqwest is built without
    /// a default crypto provider and would panic without one.
    pub fn new(config: ClientConfig) -> Result<Self, StripeError> {
        // A second install (another client, the tests) fails harmlessly: one is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let api_base = Url::parse(config.api_base.trim_end_matches('/'))
            .map_err(|e| StripeError::Setup(format!("api_base {:?}: {e}", config.api_base)))?;
        if api_base.cannot_be_a_base() {
            return Err(StripeError::Setup(format!("api_base {:?} is not a base URL", config.api_base)));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("qskip/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StripeError::Setup(e.to_string()))?;
        Ok(Self { http, api_base, config })
    }

    /// `POST /v1/checkout/sessions`. Send the same `params` with the same key on every
    /// call for one reservation attempt (persist them): that is what makes it idempotent.
    pub async fn create_checkout_session(
        &self,
        params: &CheckoutSessionParams,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        params.validate()?;
        self.post(&["v1", "checkout", "sessions"], params.to_form(), idempotency_key).await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`. Fails with a 400 when the session is no
    /// longer `open` (e.g. the customer paid first): then await or fetch the outcome.
    pub async fn expire_checkout_session(
        &self,
        session_id: &str,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let id = object_id(session_id, "session id")?;
        self.post(&["v1", "checkout", "sessions", id, "expire"], Form::default(), idempotency_key).await
    }

    /// `GET /v1/checkout/sessions/{id}`: the session's current state (after a lost
    /// webhook, or when expiring it failed).
    pub async fn retrieve_checkout_session(&self, session_id: &str) -> Result<CheckoutSession, StripeError> {
        let id = object_id(session_id, "session id")?;
        let url = self.url(&["v1", "checkout", "sessions", id]);
        self.execute(&Call { method: Method::GET, url, post: None }).await
    }

    /// `POST /v1/refunds` of `amount_minor` of `payment_intent` (`None`: all that is not
    /// refunded yet), tagged with the reservation. Use one stable key per refund.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount_minor: Option<u64>,
        reservation_id: &str,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        object_id(payment_intent, "payment intent")?;
        let amount = amount_minor.map(|a| i64::try_from(a).map_err(|_| InvalidParams::Amount(a)));
        let form = Form::from_params([
            ("payment_intent", Param::str(payment_intent)),
            ("amount", amount.transpose()?.map_or(Param::Null, Param::Int)),
            ("reason", Param::str("requested_by_customer")),
            ("metadata", Param::map([("reservation_id", Param::str(reservation_id))])),
        ]);
        self.post(&["v1", "refunds"], form, idempotency_key).await
    }

    /// `GET /v1/refunds?payment_intent=…`: the refunds already made, so a worker whose
    /// idempotency key has expired at Stripe (after 24 h) does not refund twice.
    pub async fn list_refunds(&self, payment_intent: &str) -> Result<Vec<Refund>, StripeError> {
        object_id(payment_intent, "payment intent")?;
        let mut url = self.url(&["v1", "refunds"]);
        url.query_pairs_mut()
            .append_pair("payment_intent", payment_intent)
            .append_pair("limit", &REFUNDS_PAGE_LIMIT.to_string());
        let page: List<Refund> = self.execute(&Call { method: Method::GET, url, post: None }).await?;
        if page.has_more {
            tracing::warn!(payment_intent, "more refunds than one page; only the first page is read");
        }
        Ok(page.data)
    }

    async fn post<T: DeserializeOwned>(&self, path: &[&str], form: Form, key: &str) -> Result<T, StripeError> {
        check_idempotency_key(key)?;
        let call = Call { method: Method::POST, url: self.url(path), post: Some((form.encode(), key)) };
        self.execute(&call).await
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api_base.clone();
        url.path_segments_mut()
            .expect("api_base was checked to be a base URL in new()")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// Runs a call with the retry policy: retries transport failures and the answers
    /// [`retry::should_retry_status`] allows, waiting with exponential backoff.
    async fn execute<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, StripeError> {
        let policy = self.config.retry;
        let mut attempt = 1;
        loop {
            let (error, retryable) = match self.attempt(call, attempt).await {
                Ok(body) => return serde_json::from_slice(&body).map_err(StripeError::Decode),
                Err(failure) => failure,
            };
            if !retryable || attempt > policy.max_retries {
                return Err(error);
            }
            let delay = policy.delay_with_jitter(attempt);
            tracing::warn!(method = %call.method, path = call.url.path(), attempt, ?delay, %error, "Stripe call failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt: the body on a success status, else the error and whether to retry.
    async fn attempt(&self, call: &Call<'_>, attempt: u32) -> Result<Vec<u8>, (StripeError, bool)> {
        let response = self.request(call).send().await.map_err(|source| {
            let retryable = !source.is_builder();
            (StripeError::Network { attempts: attempt, source }, retryable)
        })?;
        let status = response.status();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let should_retry = header("stripe-should-retry");
        let request_id = header("request-id");
        let body = read_limited(response, attempt).await.map_err(|e| {
            let retryable = matches!(e, StripeError::Network { .. });
            (e, retryable)
        })?;
        if status.is_success() {
            return Ok(body);
        }
        let retryable = retry::should_retry_status(status, should_retry.as_deref());
        Err((error::from_response(status, &body, request_id), retryable))
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(self.config.secret_key.expose_secret());
        if let Some(version) = &self.config.stripe_version {
            request = request.header("Stripe-Version", version);
        }
        if let Some((body, key)) = &call.post {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE))
                .header("Idempotency-Key", *key)
                .body(body.clone());
        }
        request
    }
}

/// Reads an answer of at most [`RESPONSE_BYTES_MAX`] bytes.
async fn read_limited(mut response: Response, attempt: u32) -> Result<Vec<u8>, StripeError> {
    let too_large = StripeError::ResponseTooLarge { max: RESPONSE_BYTES_MAX };
    if response.content_length().is_some_and(|len| len > RESPONSE_BYTES_MAX as u64) {
        return Err(too_large);
    }
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|source| StripeError::Network { attempts: attempt, source })?
    {
        if body.len() + chunk.len() > RESPONSE_BYTES_MAX {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Stripe's keys are at most 255 characters; a header value must be visible ASCII.
fn check_idempotency_key(key: &str) -> Result<(), StripeError> {
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > IDEMPOTENCY_KEY_LEN_MAX || !printable {
        return Err(StripeError::InvalidIdempotencyKey);
    }
    Ok(())
}

/// An object id safe to put into a URL path or query (`cs_test_a1B2`, `pi_3K…`).
fn object_id<'a>(id: &'a str, what: &'static str) -> Result<&'a str, StripeError> {
    let valid = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if id.is_empty() || id.len() > OBJECT_ID_LEN_MAX || !valid {
        return Err(StripeError::InvalidId { what });
    }
    Ok(id)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
