//! Talking to a running qskip (in-process or the binary) over HTTP: the client, the
//! JSON shapes the API answers with, and the assertions on its answers.

use std::sync::Once;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{eventually, rfc3339, window_len};

/// `rustls` is built without a default provider: install ring once, or building any
/// reqwest client panics.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client that follows no redirects (so the 303 of the dev checkout is visible) and
/// gives up on a request after 30 s instead of hanging a test.
pub fn http_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(StdDuration::from_secs(30))
        .build()
        .expect("the HTTP client builds")
}

/// Window counts as `GET /v1/venues/{venue}/windows` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowCountsJson {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
    pub held: u32,
    pub confirmed: u32,
    pub available: u32,
    pub overcommitted: bool,
    /// Slots asked for by the window's waitlist.
    pub waitlisted: u32,
}

/// A reservation as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReservationJson {
    pub id: String,
    pub venue_id: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub quantity: u32,
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checkout_url: String,
    pub amount_minor: u64,
    pub currency: String,
}

/// Requests against one running qskip (in-process or the binary) by base URL.
#[derive(Clone)]
pub struct Api {
    pub address: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(address: String) -> Self {
        Self { address, client: http_client() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `POST /v1/venues/{venue}/reservations` with a JSON body and an optional key.
    pub async fn reserve_at(&self, venue: &str, body: &Value, key: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(&format!("/v1/venues/{venue}/reservations"))).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("POST reservations is answered")
    }

    /// Reserve `quantity` slots of the window starting at `start`.
    pub async fn reserve_in(&self, venue: &str, start: DateTime<Utc>, quantity: u32) -> Response {
        self.reserve_at(venue, &json!({ "quantity": quantity, "window_start": rfc3339(start) }), None).await
    }

    pub async fn get_reservation(&self, id: &str) -> Response {
        self.client.get(self.url(&format!("/v1/reservations/{id}"))).send().await.expect("GET reservation is answered")
    }

    /// The reservation, asserting 200.
    pub async fn reservation(&self, id: &str) -> ReservationJson {
        let response = self.get_reservation(id).await;
        assert_eq!(response.status(), StatusCode::OK, "GET /v1/reservations/{id}");
        response.json().await.expect("a reservation is JSON")
    }

    /// Waits until the reservation has `status` (a worker or timer changes it, not
    /// this request) and returns it.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> ReservationJson {
        let what = format!("reservation {id} to become {status}");
        eventually(&what, || async {
            let reservation = self.reservation(id).await;
            if reservation.status == status { Ok(reservation) } else { Err(reservation.status) }
        })
        .await
    }

    pub async fn cancel(&self, id: &str) -> Response {
        self.client.post(self.url(&format!("/v1/reservations/{id}/cancel"))).send().await.expect("cancel is answered")
    }

    /// `GET /v1/venues/{venue}/windows` with optional `from`/`to`.
    pub async fn windows(&self, venue: &str, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Response {
        let mut query = Vec::new();
        if let Some(from) = from {
            query.push(format!("from={}", rfc3339(from)));
        }
        if let Some(to) = to {
            query.push(format!("to={}", rfc3339(to)));
        }
        let mut url = self.url(&format!("/v1/venues/{venue}/windows"));
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        self.client.get(url).send().await.expect("GET windows is answered")
    }

    /// Counts of the one window starting at `start`, asserting 200.
    pub async fn window_counts(&self, venue: &str, start: DateTime<Utc>) -> WindowCountsJson {
        let response = self.windows(venue, Some(start), Some(start + window_len())).await;
        assert_eq!(response.status(), StatusCode::OK, "GET windows");
        let mut windows: Vec<WindowCountsJson> = response.json().await.expect("windows are JSON");
        assert_eq!(windows.len(), 1, "one window asked, one answered");
        let window = windows.pop().expect("one window");
        assert_eq!(window.start, start);
        assert_eq!(window.end, start + window_len());
        assert_eq!(window.available, window.capacity.saturating_sub(window.held + window.confirmed), "{window:?}");
        window
    }

    /// Counts of consecutive windows `[from, to)`, asserting 200.
    pub async fn window_range(&self, venue: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<WindowCountsJson> {
        let response = self.windows(venue, Some(from), Some(to)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET windows");
        response.json().await.expect("windows are JSON")
    }

    pub async fn dev_page(&self, id: &str) -> Response {
        self.client.get(self.url(&format!("/dev/checkout/{id}"))).send().await.expect("dev page is answered")
    }

    /// `POST /dev/checkout/{id}/pay`; the answer is a 303 (redirects are not followed).
    pub async fn dev_pay(&self, id: &str) -> Response {
        self.client.post(self.url(&format!("/dev/checkout/{id}/pay"))).send().await.expect("dev pay is answered")
    }

    pub async fn dev_cancel(&self, id: &str) -> Response {
        self.client.post(self.url(&format!("/dev/checkout/{id}/cancel"))).send().await.expect("dev cancel is answered")
    }
}

/// The `result=` of a dev checkout redirect, asserting a 303 to the status page.
pub fn dev_result(response: &Response, id: &str) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "dev checkout answers 303");
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a 303 has a Location")
        .to_str()
        .expect("Location is ASCII");
    let prefix = format!("/reservations/{id}?result=");
    location.strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected Location {location:?}")).to_owned()
}

/// Asserts a JSON error `{error: {code, message}}` with this status and code; returns
/// the `error` object.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    let what = format!("{} {}", response.url().path(), response.status());
    assert_eq!(response.status(), status, "{what}: status");
    let error = error_body(response).await;
    assert_eq!(error["code"], code, "{what}: error code in {error}");
    error
}

/// The `error` object of a JSON error response, checking its shape.
pub async fn error_body(response: Response) -> Value {
    let what = format!("{} {}", response.url().path(), response.status());
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/json"), "{what}: error content type {content_type:?}");
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{what}: error body is not JSON: {e}"));
    let error = body["error"].clone();
    assert!(error["code"].as_str().is_some_and(|c| !c.is_empty()), "{what}: no error.code in {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: no error.message in {body}");
    error
}

/// The reservation in a 201 answer.
pub async fn created(response: Response) -> ReservationJson {
    let status = response.status();
    let text = response.text().await.expect("body is readable");
    assert_eq!(status, StatusCode::CREATED, "expected 201, got {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("201 body is a reservation ({e}): {text}"))
}
