//! Bad requests, as a table: each gets its documented status and a JSON
//! `{error: {code, message}}`, never a 500, and none changes any state.

use std::io::{Read, Write};
use std::time::Duration as StdDuration;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{AppOptions, TestApp, VENUE, WindowCountsJson, created, rfc3339, spawn_app_with};

struct Case {
    name: &'static str,
    request: reqwest::RequestBuilder,
    status: StatusCode,
    code: &'static str,
}

fn reserve_raw(app: &TestApp, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    let mut request = app.client.post(app.url(&format!("/v1/venues/{VENUE}/reservations"))).body(body);
    if let Some(content_type) = content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    request
}

fn reserve_json(app: &TestApp, body: serde_json::Value) -> reqwest::RequestBuilder {
    reserve_raw(app, Some("application/json"), body.to_string())
}

fn cases(app: &TestApp) -> Vec<Case> {
    use StatusCode as S;
    let json_ct = Some("application/json");
    let now = app.now();
    let ended = app.window(-1);
    let beyond = app.window(7 * 24 * 4 + 1);
    let unknown_id = uuid::Uuid::new_v4();
    let windows = |query: &str| app.client.get(app.url(&format!("/v1/venues/{VENUE}/windows?{query}")));
    let case = |name, request, status, code| Case { name, request, status, code };
    vec![
        // Bodies that are not the JSON we take.
        case("malformed JSON", reserve_raw(app, json_ct, "{\"quantity\": 1,"), S::BAD_REQUEST, "invalid_body"),
        case(
            "unknown field",
            reserve_json(app, json!({"quantity": 1, "colour": "red"})),
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case("quantity as string", reserve_json(app, json!({"quantity": "two"})), S::BAD_REQUEST, "invalid_body"),
        case("window_start as number", reserve_json(app, json!({"window_start": 12})), S::BAD_REQUEST, "invalid_body"),
        case(
            "window_start not a date",
            reserve_json(app, json!({"window_start": "soon"})),
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case("body is an array", reserve_json(app, json!([1])), S::BAD_REQUEST, "invalid_body"),
        case("negative quantity", reserve_json(app, json!({"quantity": -1})), S::BAD_REQUEST, "invalid_body"),
        case(
            "quantity over u32",
            reserve_json(app, json!({"quantity": 4_294_967_296_u64})),
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case("fractional quantity", reserve_json(app, json!({"quantity": 1.5})), S::BAD_REQUEST, "invalid_body"),
        // Well-formed but against the rules.
        case("quantity 0", reserve_json(app, json!({"quantity": 0})), S::UNPROCESSABLE_ENTITY, "invalid_quantity"),
        case("quantity 21", reserve_json(app, json!({"quantity": 21})), S::UNPROCESSABLE_ENTITY, "invalid_quantity"),
        case(
            "quantity u32::MAX",
            reserve_json(app, json!({"quantity": u32::MAX})),
            S::UNPROCESSABLE_ENTITY,
            "invalid_quantity",
        ),
        case(
            "window_start off a boundary",
            reserve_json(app, json!({"window_start": rfc3339(app.window(1) + Duration::minutes(5))})),
            S::UNPROCESSABLE_ENTITY,
            "window_not_aligned",
        ),
        case(
            "window_start with a fraction",
            reserve_json(app, json!({"window_start": "2026-11-28T12:15:00.5Z"})),
            S::UNPROCESSABLE_ENTITY,
            "window_not_aligned",
        ),
        case(
            "ended window",
            reserve_json(app, json!({"window_start": rfc3339(ended)})),
            S::UNPROCESSABLE_ENTITY,
            "window_ended",
        ),
        case(
            "window of 1970",
            reserve_json(app, json!({"window_start": "1970-01-01T00:00:00Z"})),
            S::UNPROCESSABLE_ENTITY,
            "window_ended",
        ),
        case(
            "beyond the horizon",
            reserve_json(app, json!({"window_start": rfc3339(beyond)})),
            S::UNPROCESSABLE_ENTITY,
            "beyond_horizon",
        ),
        case(
            "year 9999",
            reserve_json(app, json!({"window_start": "9999-12-31T23:45:00Z"})),
            S::UNPROCESSABLE_ENTITY,
            "beyond_horizon",
        ),
        case(
            "email without @",
            reserve_json(app, json!({"email": "nobody"})),
            S::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        case(
            "email with a space",
            reserve_json(app, json!({"email": "a b@example.com"})),
            S::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        case(
            "email too long",
            reserve_json(app, json!({"email": format!("{}@example.com", "a".repeat(250))})),
            S::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        // Transport-level problems.
        case(
            "text/plain body",
            reserve_raw(app, Some("text/plain"), "{\"quantity\": 1}"),
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        case(
            "form body",
            reserve_raw(app, Some("application/x-www-form-urlencoded"), "quantity=1"),
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        case(
            "body without content type",
            reserve_raw(app, None, "{\"quantity\": 1}"),
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        case(
            "body over 16 KiB",
            reserve_json(app, json!({"email": format!("{}@example.com", "a".repeat(17 * 1024))})),
            S::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        case(
            "idempotency key too long",
            reserve_json(app, json!({})).header("Idempotency-Key", "k".repeat(256)),
            S::BAD_REQUEST,
            "invalid_idempotency_key",
        ),
        case(
            "idempotency key with a space",
            reserve_json(app, json!({})).header("Idempotency-Key", "a b"),
            S::BAD_REQUEST,
            "invalid_idempotency_key",
        ),
        case(
            "empty idempotency key",
            reserve_json(app, json!({})).header("Idempotency-Key", ""),
            S::BAD_REQUEST,
            "invalid_idempotency_key",
        ),
        // Things that do not exist.
        case(
            "unknown venue",
            app.client.post(app.url("/v1/venues/nowhere/reservations")).json(&json!({})),
            S::NOT_FOUND,
            "venue_not_found",
        ),
        case(
            "venue id in capitals",
            app.client.post(app.url("/v1/venues/BAR/reservations")).json(&json!({})),
            S::NOT_FOUND,
            "venue_not_found",
        ),
        case(
            "malformed reservation id",
            app.client.get(app.url("/v1/reservations/not-a-uuid")),
            S::NOT_FOUND,
            "reservation_not_found",
        ),
        case(
            "cancel malformed id",
            app.client.post(app.url("/v1/reservations/123/cancel")),
            S::NOT_FOUND,
            "reservation_not_found",
        ),
        case(
            "dev page malformed id",
            app.client.get(app.url("/dev/checkout/xyz")),
            S::NOT_FOUND,
            "reservation_not_found",
        ),
        case(
            "dev pay malformed id",
            app.client.post(app.url("/dev/checkout/xyz/pay")),
            S::NOT_FOUND,
            "reservation_not_found",
        ),
        case("unknown route", app.client.get(app.url("/v1/nothing")), S::NOT_FOUND, "not_found"),
        case(
            "route below windows",
            app.client.get(app.url(&format!("/v1/venues/{VENUE}/windows/x"))),
            S::NOT_FOUND,
            "not_found",
        ),
        // Queries.
        case("from=notadate", windows("from=notadate"), S::BAD_REQUEST, "invalid_query"),
        case("unknown query field", windows("since=2026-11-28T12:00:00Z"), S::BAD_REQUEST, "invalid_query"),
        case(
            "to before from",
            windows(&format!("from={}&to={}", rfc3339(app.window(2)), rfc3339(app.window(1)))),
            S::UNPROCESSABLE_ENTITY,
            "invalid_range",
        ),
        case(
            "to equal to from",
            windows(&format!("from={}&to={}", rfc3339(now), rfc3339(now))),
            S::UNPROCESSABLE_ENTITY,
            "invalid_range",
        ),
        case(
            "range over a week",
            windows(&format!("from={}&to={}", rfc3339(app.window(0)), rfc3339(app.window(7 * 24 * 4 + 1)))),
            S::UNPROCESSABLE_ENTITY,
            "invalid_range",
        ),
        // Methods a route does not take.
        case(
            "GET reservations",
            app.client.get(app.url(&format!("/v1/venues/{VENUE}/reservations"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "DELETE reservations",
            app.client.delete(app.url(&format!("/v1/venues/{VENUE}/reservations"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "POST venues",
            app.client.post(app.url("/v1/venues")).json(&json!({})),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "PUT windows",
            app.client.put(app.url(&format!("/v1/venues/{VENUE}/windows"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "DELETE reservation",
            app.client.delete(app.url(&format!("/v1/reservations/{unknown_id}"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "GET cancel",
            app.client.get(app.url(&format!("/v1/reservations/{unknown_id}/cancel"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "GET dev pay",
            app.client.get(app.url(&format!("/dev/checkout/{unknown_id}/pay"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        case(
            "PATCH dev page",
            app.client.request(Method::PATCH, app.url(&format!("/dev/checkout/{unknown_id}"))),
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ]
}

/// Everything a bad request could have changed: the windows around now.
async fn snapshot(app: &TestApp) -> Vec<WindowCountsJson> {
    let mut windows = app.window_range(VENUE, app.window(-1), app.window(12)).await;
    windows.extend(app.window_range(VENUE, app.window(7 * 24 * 4 - 12), app.window(7 * 24 * 4 + 2)).await);
    windows
}

#[actix_web::test]
async fn bad_requests_get_json_errors_and_change_nothing() {
    let app = spawn_app_with(AppOptions::capacity(3)).await;
    // Some state to keep intact: one held and one full window.
    created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    created(app.reserve_in(VENUE, app.window(2), 3).await).await;
    let before = snapshot(&app).await;

    let mut failures = Vec::new();
    for case in cases(&app) {
        let response = case.request.send().await.unwrap_or_else(|e| panic!("{}: no answer: {e}", case.name));
        let status = response.status();
        let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).cloned();
        let text = response.text().await.unwrap_or_default();
        let body: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        let code = body.as_ref().and_then(|b| b["error"]["code"].as_str().map(str::to_owned));
        let message = body.as_ref().and_then(|b| b["error"]["message"].as_str().map(str::to_owned));
        let is_json =
            content_type.as_ref().and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
        if status != case.status
            || code.as_deref() != Some(case.code)
            || !is_json
            || message.is_none_or(|m| m.is_empty())
        {
            failures.push(format!(
                "{}: expected {} {}, got {status} {content_type:?} {text}",
                case.name, case.status, case.code
            ));
        }
        assert!(!status.is_server_error(), "{}: server error {status}: {text}", case.name);
    }
    assert!(failures.is_empty(), "{} bad requests were mishandled:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(snapshot(&app).await, before, "bad requests changed state");
}

/// A body over the limit sent chunked (no Content-Length to refuse it by) is still cut
/// off at 16 KiB with a JSON 413, and the hold is not placed.
#[actix_web::test]
async fn a_chunked_body_over_the_limit_is_refused() {
    let app = spawn_app_with(AppOptions::capacity(3)).await;
    let start = app.window(1);
    let port = app.port;
    let email = format!("{}@example.com", "a".repeat(20 * 1024));
    let payload = json!({ "quantity": 1, "window_start": rfc3339(start), "email": email }).to_string();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(StdDuration::from_secs(10))).expect("timeout");
        let head = format!(
            "POST /v1/venues/{VENUE}/reservations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let mut request = head.into_bytes();
        for chunk in payload.as_bytes().chunks(1024) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        // The server may answer and close before reading it all; that is fine.
        let _ = stream.write_all(&request);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .expect("the raw request ran");
    assert!(answer.starts_with("HTTP/1.1 413"), "expected a 413, got: {answer}");
    assert!(answer.contains("\"payload_too_large\""), "expected a JSON error, got: {answer}");
    assert_eq!(app.window_counts(VENUE, start).await.held, 0);
}

/// Requests just inside every limit are accepted: the table above fails for the reason
/// each case names, not because the endpoint is broken.
#[actix_web::test]
async fn the_well_formed_twins_of_bad_requests_succeed() {
    let app = spawn_app_with(AppOptions::capacity(30)).await;
    let horizon = app.window(7 * 24 * 4);
    let bodies = [
        json!({}),
        json!({"quantity": 20, "window_start": rfc3339(app.window(1))}),
        json!({"quantity": 1, "window_start": rfc3339(app.window(0))}),
        json!({"window_start": rfc3339(horizon), "email": "a@example.com"}),
        json!({"email": format!("{}@example.com", "a".repeat(254 - 12))}),
    ];
    for body in &bodies {
        created(app.reserve_at(VENUE, body, None).await).await;
    }
    let response = reserve_raw(&app, Some("application/merge-patch+json"), "{}").send().await.expect("answered");
    created(response).await;
    let response = reserve_raw(&app, Some("Application/JSON; charset=utf-8"), "{}").send().await.expect("answered");
    created(response).await;
    let response = reserve_raw(&app, Some("text/plain"), "").send().await.expect("answered");
    created(response).await;
    let response = app.reserve_at(VENUE, &json!({}), Some(&"k".repeat(255))).await;
    created(response).await;
    let window = app.window_counts(VENUE, app.window(0)).await;
    assert_eq!(window.held, 7, "{window:?}");
    let response = app.windows(VENUE, Some(app.window(0)), Some(app.window(7 * 24 * 4))).await;
    let windows: Vec<WindowCountsJson> = response.json().await.expect("a week of windows");
    assert_eq!(windows.len(), 7 * 24 * 4);
}

/// Every route answers a method it does not take with 405 `method_not_allowed`, like
/// the `/v1` resources do.
#[actix_web::test]
async fn wrong_method_on_the_ops_routes_is_405() {
    let app = spawn_app_with(AppOptions::capacity(3)).await;
    for path in ["/healthz", "/readyz", "/"] {
        let response = app.client.post(app.url(path)).send().await.expect("answered");
        crate::helpers::assert_error(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
}
