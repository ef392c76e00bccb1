//! Hostile input through the real server (issue 11): inputs that used to panic a
//! handler, stop the process or switch a limit off. Each test first shows the refusal,
//! then that the service still serves.

use std::time::Duration as StdDuration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::helpers::{
    AppOptions, LimitsConfig, TestApp, VENUE, VenueSpec, assert_error, created, eventually, rfc3339, spawn_app_with,
};
use crate::stripe_fake::{event, mount_refunds, post_signed, stripe_app};

/// The largest time chrono parses: adding anything to it used to panic the handler.
const END_OF_TIME: &str = "%2B262142-12-31T23:59:59Z";
const END_OF_TIME_NANOS: &str = "%2B262142-12-31T23:59:59.999999999Z";

async fn healthy(app: &TestApp) {
    let health = app.client.get(app.url("/healthz")).send().await.expect("healthz is answered");
    assert_eq!(health.status(), StatusCode::OK);
    created(app.reserve_in(VENUE, app.window(1), 1).await).await;
}

#[actix_web::test]
async fn times_chrono_cannot_shift_are_422_on_every_route_that_takes_a_time() {
    const TOKEN: &str = "test-admin-token-0123456789abcdef";
    let app = spawn_app_with(AppOptions::capacity(5).admin_token(TOKEN)).await;
    let near = rfc3339(app.window(1));
    for query in [
        format!("from={END_OF_TIME}"),
        format!("from={END_OF_TIME_NANOS}"),
        format!("from={near}&to={END_OF_TIME}"),
        "from=-262143-01-01T00:00:00Z".to_owned(),
    ] {
        for route in ["windows", "stream"] {
            let url = app.url(&format!("/v1/venues/{VENUE}/{route}?{query}"));
            let response = app.client.get(url).send().await.expect("answered");
            assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_range").await;
        }
    }
    for start in [END_OF_TIME, "%2B262142-12-31T23:45:00Z", "1000-01-01T00:00:00Z"] {
        let url = app.url(&format!("/v1/admin/venues/{VENUE}/windows/{start}/reservations"));
        let response = app.client.get(url).bearer_auth(TOKEN).send().await.expect("answered");
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_range").await;
    }
    let body = json!({ "window_start": "+262142-12-31T23:45:00Z" });
    let far = app.reserve_at(VENUE, &body, None).await;
    assert_error(far, StatusCode::UNPROCESSABLE_ENTITY, "beyond_horizon").await;
    healthy(&app).await;
}

#[actix_web::test]
async fn a_missing_or_unparseable_client_ip_header_falls_back_to_the_peer_address() {
    let limits = LimitsConfig {
        reservations_per_ip_per_minute: Some(3),
        active_hold_slots_per_client: Some(100),
        client_ip_header: Some("X-Client-IP".into()),
        ..LimitsConfig::on()
    };
    let app = spawn_app_with(AppOptions::with_venues(vec![VenueSpec::new(VENUE, 40)]).limits(limits)).await;
    let url = app.url(&format!("/v1/venues/{VENUE}/reservations"));
    let body = json!({ "window_start": rfc3339(app.window(1)) });
    // No header, a garbage header and an empty one all count as the peer (127.0.0.1).
    for header in [None, Some("not-an-address"), Some("")] {
        let mut request = app.client.post(&url).json(&body);
        if let Some(value) = header {
            request = request.header("X-Client-IP", value);
        }
        created(request.send().await.expect("answered")).await;
    }
    let fourth = app.client.post(&url).json(&body).header("X-Client-IP", "garbage").send().await.expect("answered");
    assert_error(fourth, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // A well-formed header is still another client.
    let other = app.client.post(&url).json(&body).header("X-Client-IP", "10.0.0.9").send().await.expect("answered");
    created(other).await;
}

#[actix_web::test]
async fn a_missing_client_ip_header_still_counts_unpaid_holds() {
    let limits = LimitsConfig {
        reservations_per_ip_per_minute: Some(1_000),
        active_hold_slots_per_client: Some(2),
        client_ip_header: Some("X-Client-IP".into()),
        ..LimitsConfig::on()
    };
    let app = spawn_app_with(AppOptions::with_venues(vec![VenueSpec::new(VENUE, 40)]).limits(limits)).await;
    created(app.reserve_in(VENUE, app.window(1), 2).await).await;
    let over = app.reserve_in(VENUE, app.window(1), 1).await;
    assert_error(over, StatusCode::TOO_MANY_REQUESTS, "too_many_active_holds").await;
}

/// A signed paid event whose `data.object` is edited by `edit`.
fn paid_event(reservation: &str, intent: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut event: Value =
        serde_json::from_str(&event("evt_h", "checkout.session.completed", reservation, intent, "paid", 500))
            .expect("the fake's events are JSON");
    edit(&mut event["data"]["object"]);
    event.to_string()
}

#[actix_web::test]
async fn an_oversized_field_in_a_signed_event_is_400_and_the_service_goes_on() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 2).await;
    let r = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let huge = "x".repeat(70_000);
    for field in ["payment_intent", "currency", "id", "client_reference_id"] {
        let body = paid_event(&r.id, "pi_ok", |o| o[field] = json!(huge));
        let response = post_signed(&app.api, &body, app.now().timestamp()).await;
        let error = assert_error(response, StatusCode::BAD_REQUEST, "invalid_event").await;
        assert!(error["message"].as_str().unwrap().contains("at most"), "{field}: {error}");
    }
    // Nothing was recorded, and the same reservation still takes a good payment.
    assert_eq!(app.reservation(&r.id).await.status, "held");
    let good = post_signed(&app.api, &paid_event(&r.id, "pi_ok", |_| {}), app.now().timestamp()).await;
    assert_eq!(good.status(), StatusCode::OK);
    assert_eq!(app.reservation(&r.id).await.status, "confirmed");
    healthy(&app).await;
}

#[actix_web::test]
async fn a_paid_event_whose_amount_or_currency_cannot_be_checked_is_owed_back_never_confirmed() {
    let server = MockServer::start().await;
    let app = stripe_app(&server, 5).await;
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 4] = [
        ("amount missing", |o| drop(o.as_object_mut().unwrap().remove("amount_total"))),
        ("amount null", |o| o["amount_total"] = Value::Null),
        ("amount negative", |o| o["amount_total"] = json!(-5)),
        ("currency missing", |o| drop(o.as_object_mut().unwrap().remove("currency"))),
    ];
    for (n, (what, edit)) in edits.into_iter().enumerate() {
        let r = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
        let intent = format!("pi_unchecked_{n}");
        mount_refunds(&server, &intent, &format!("re_{n}"), 1).await;
        let response = post_signed(&app.api, &paid_event(&r.id, &intent, edit), app.now().timestamp()).await;
        assert_eq!(response.status(), StatusCode::OK, "{what}");
        let receipt: Value = response.json().await.expect("JSON");
        assert_ne!(receipt["outcome"], "confirmed", "{what}: {receipt}");
        let raw: Value = app.get_reservation(&r.id).await.json().await.expect("JSON");
        assert_ne!(raw["status"], "confirmed", "{what}: {raw}");
        assert_eq!(raw["refunds"][0]["payment_intent"], intent.as_str(), "{what}: {raw}");
        assert_eq!(raw["refunds"][0]["reason"], "amount_mismatch", "{what}: {raw}");
        // The money was taken, so it goes back.
        let issued = eventually(&format!("{what}: the refund to be issued"), || async {
            let raw: Value = app.get_reservation(&r.id).await.json().await.map_err(|e| e.to_string())?;
            raw["refunds"][0]["refund_id"].as_str().map(str::to_owned).ok_or_else(|| raw.to_string())
        })
        .await;
        assert_eq!(issued, format!("re_{n}"), "{what}: refund issued");
    }
    assert_eq!(app.window_counts(VENUE, app.window(1)).await.confirmed, 0);
}

/// The journal's own guard, under every caller: an oversized record refuses its
/// submission with a typed error; the journal is not failed and writes the next one.
#[actix_web::test]
async fn the_journal_refuses_an_oversized_record_and_keeps_writing() {
    use qskip::domain::{ReserveRequest, VenueId};
    use qskip::store::{EventLog, IdempotencyEntry, IdempotentOutcome, Journal, JournalError, JournalOptions, Record};

    let dir = tempfile::tempdir().expect("a temp dir");
    let log = EventLog::open(dir.path()).expect("open log");
    let fatal = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let told = fatal.clone();
    let on_fatal = Box::new(move |_: &JournalError| told.store(true, std::sync::atomic::Ordering::SeqCst));
    let journal = Journal::start(log.clone(), JournalOptions::default(), on_fatal).expect("start journal");
    let entry = |key: String| {
        let request = ReserveRequest { quantity: Some(1), window_start: None, email: None, waitlist: false };
        let venue_id = VenueId::parse("bar").expect("valid");
        Record::Idempotency(IdempotencyEntry {
            key,
            venue_id,
            request,
            outcome: IdempotentOutcome::SoldOut { available: 0 },
        })
    };
    let now = chrono::Utc::now();
    let (_, huge) = journal.append(vec![(now, entry("k".repeat(70_000)))]);
    assert!(matches!(huge.await, Err(JournalError::RecordTooLarge(_))), "the oversized record is refused");
    assert!(!journal.is_failed() && !fatal.load(std::sync::atomic::Ordering::SeqCst), "the refusal is not fatal");
    let (ticket, small) = journal.append(vec![(now, entry("order-1".into()))]);
    small.await.expect("the next record is written");
    journal.wait_durable(ticket).await.expect("and durable");
    assert_eq!(log.last_seq().expect("read"), 1, "only the small record is in the log");
    journal.shutdown();
}

/// Sends raw bytes and returns everything the server answers before closing.
async fn raw_exchange(app: &TestApp, bytes: &[u8], wait: StdDuration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.expect("connect");
    stream.write_all(bytes).await.expect("sent");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON error code of a raw HTTP answer, checking its head says JSON of that length.
fn raw_error_code(answer: &str) -> String {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {answer:?}"));
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    assert!(head.contains(&format!("content-length: {}", body.len())), "{head} / {body}");
    let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{json}");
    json["error"]["code"].as_str().expect("a code").to_owned()
}

#[actix_web::test]
async fn errors_of_the_http_layer_itself_are_json() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    let malformed = raw_exchange(&app, b"GARBAGE\r\n\r\n", StdDuration::from_secs(10)).await;
    assert!(malformed.starts_with("HTTP/1.1 400"), "{malformed}");
    assert_eq!(raw_error_code(&malformed), "bad_request");
    let bad_length = b"POST /v1/venues/bar/reservations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n";
    let bad_length = raw_exchange(&app, bad_length, StdDuration::from_secs(10)).await;
    assert!(bad_length.starts_with("HTTP/1.1 400"), "{bad_length}");
    assert_eq!(raw_error_code(&bad_length), "bad_request");
    let huge_head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(140_000));
    let huge_head = raw_exchange(&app, huge_head.as_bytes(), StdDuration::from_secs(10)).await;
    assert!(huge_head.starts_with("HTTP/1.1 431"), "{}", &huge_head[..huge_head.len().min(300)]);
    assert_eq!(raw_error_code(&huge_head), "headers_too_large");
    // A head that never ends: 408 at the head deadline (5 s), JSON too.
    let slow_head = raw_exchange(&app, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", StdDuration::from_secs(30)).await;
    assert!(slow_head.starts_with("HTTP/1.1 408"), "{slow_head}");
    assert_eq!(raw_error_code(&slow_head), "request_timeout");
    healthy(&app).await;
}

#[actix_web::test]
async fn head_healthz_answers_200() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.head(app.url(path)).send().await.expect("answered");
        assert_eq!(response.status(), StatusCode::OK, "HEAD {path}");
    }
}

#[actix_web::test]
async fn the_dev_checkout_page_and_the_docs_carry_the_security_headers_and_allow_no_stray_script() {
    let app = spawn_app_with(AppOptions::capacity(5)).await;
    let r = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    let docs = app.client.get(app.url("/docs")).send().await.expect("answered");
    let docs_csp = docs.headers()["content-security-policy"].to_str().expect("ASCII").to_owned();
    // Its one inline script runs by its hash; no other inline script would.
    assert!(!docs_csp.contains("unsafe-inline") && docs_csp.contains("script-src 'sha256-"), "{docs_csp}");
    for response in [
        app.dev_page(&r.id).await,
        app.client.get(app.url("/docs")).send().await.expect("answered"),
        app.client.get(app.url("/")).send().await.expect("answered"),
    ] {
        let path = response.url().path().to_owned();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"), "{path}");
        assert!(!header("content-security-policy").contains("script-src 'unsafe-inline'"), "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
}

#[actix_web::test]
async fn emails_and_venue_names_with_control_or_bidi_characters_are_422() {
    const TOKEN: &str = "test-admin-token-0123456789abcdef";
    let app = spawn_app_with(AppOptions::capacity(5).admin_token(TOKEN)).await;
    for email in ["ana@example.com\u{202E}moc", "ana@exa\u{7}mple.com", "ana@example.com\r\nBcc: x", "\u{2066}a@b.c"] {
        let body = json!({ "email": email, "window_start": rfc3339(app.window(1)) });
        assert_error(app.reserve_at(VENUE, &body, None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email").await;
    }
    for name in ["Club\u{202E}droN", "Bar\nInjected", "\u{200F}Bar"] {
        let body = json!({ "name": name, "timezone": "UTC", "price_minor": 500, "currency": "eur",
                           "slots_per_hour": 8 });
        let url = app.url("/v1/admin/venues/tricky");
        let response = app.client.put(url).bearer_auth(TOKEN).header("X-Qskip-Operator", "t").json(&body).send().await;
        assert_error(response.expect("answered"), StatusCode::UNPROCESSABLE_ENTITY, "invalid_venue").await;
    }
    let tricky = app.client.get(app.url("/v1/venues/tricky")).send().await.expect("answered");
    assert_eq!(tricky.status(), StatusCode::NOT_FOUND, "no venue was made");
    created(app.reserve_at(VENUE, &json!({ "email": "Café.Ümlaut@example.com" }), None).await).await;
}
