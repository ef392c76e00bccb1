//! `GET /openapi.json` and `GET /docs`: the document validates as OpenAPI 3 (oas3), every
//! `$ref` resolves, it lists exactly the public routes (each of which the real server
//! answers), the README's curl examples are documented routes, and the docs page loads
//! nothing from another host.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::helpers::{TestApp, VENUE, created, spawn_app};
use crate::stripe_fake::stripe_app;

/// Every public route of the API, as `(method, path template)`.
const DOCUMENTED: &[(&str, &str)] = &[
    ("GET", "/v1/venues"),
    ("GET", "/v1/venues/{venue}"),
    ("GET", "/v1/venues/{venue}/windows"),
    ("GET", "/v1/venues/{venue}/stream"),
    ("POST", "/v1/venues/{venue}/reservations"),
    ("GET", "/v1/reservations/{id}"),
    ("POST", "/v1/reservations/{id}/cancel"),
    ("POST", "/v1/webhooks/stripe"),
    ("PUT", "/v1/admin/venues/{venue}"),
    ("GET", "/v1/admin/venues/{venue}/windows/{start}/reservations"),
    ("POST", "/v1/admin/reservations/{id}/release"),
    ("POST", "/v1/admin/reservations/{id}/refunds/retry"),
    ("GET", "/v1/admin/refunds"),
    ("GET", "/v1/admin/venues/{venue}/activity"),
    ("POST", "/v1/admin/backup"),
    ("GET", "/v1/admin/cluster"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
];

/// HTML pages for people, not API: served, but deliberately left out of the document.
const HTML_PAGES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/reservations/{id}"),
    ("GET", "/admin"),
    ("GET", "/assets/booking.js"),
    ("GET", "/dev/checkout/{id}"),
    ("POST", "/dev/checkout/{id}/pay"),
    ("POST", "/dev/checkout/{id}/cancel"),
    ("GET", "/dev/outbox"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn fetch_document(app: &TestApp) -> (String, Value) {
    let response = app.client.get(app.url("/openapi.json")).send().await.expect("/openapi.json is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let text = response.text().await.expect("a body");
    let doc = serde_json::from_str(&text).expect("the document is JSON");
    (text, doc)
}

/// `(METHOD, path)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut ops = BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(*method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn set(routes: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    routes.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect()
}

/// Every `$ref` string anywhere in `value`, with the JSON path where it was found.
fn refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    out.push((at.to_owned(), v.as_str().expect("$ref is a string").to_owned()));
                } else {
                    refs(v, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| refs(v, &format!("{at}/{i}"), out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_document_is_served_and_validates_as_openapi_3() {
    let app = spawn_app().await;
    let (text, doc) = fetch_document(&app).await;
    let version = doc["openapi"].as_str().expect("an openapi field");
    assert!(version.starts_with("3."), "openapi = {version}");

    // A typed OpenAPI 3.1 model: the document deserializes and its version is supported.
    let spec = oas3::from_json(&text).expect("the document is an OpenAPI 3.1 document");
    spec.validate_version().expect("a supported OpenAPI version");
    assert!(!spec.info.title.is_empty() && !spec.info.version.is_empty());

    // Every reference points at a component that exists.
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 10, "the document uses component refs: {found:?}");
    for (at, reference) in &found {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{at}: external $ref {reference}"));
        assert!(pointer.starts_with("/components/"), "{at}: $ref {reference} is not a component");
        assert!(doc.pointer(pointer).is_some(), "{at}: $ref {reference} resolves to nothing");
    }

    // And through the typed model: parameters, bodies, responses and their schemas resolve.
    let mut operation_ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        let what = format!("{method} {path}");
        let id = op.operation_id.clone().unwrap_or_else(|| panic!("{what}: no operationId"));
        assert!(operation_ids.insert(id.clone()), "{what}: operationId {id} is not unique");
        assert!(op.summary.as_deref().is_some_and(|s| !s.is_empty()), "{what}: no summary");
        assert!(!op.tags.is_empty(), "{what}: no tag");

        let parameters = op.parameters(&spec).unwrap_or_else(|e| panic!("{what}: parameters: {e}"));
        // Every `{param}` of the template is a required path parameter, and nothing more.
        let in_template: BTreeSet<String> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).map(str::to_owned).collect();
        let declared: BTreeSet<String> = parameters
            .iter()
            .filter(|p| p.location == oas3::spec::ParameterIn::Path)
            .inspect(|p| assert_eq!(p.required, Some(true), "{what}: path parameter {} is not required", p.name))
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(in_template, declared, "{what}: path parameters");

        if let Some(body) = op.request_body(&spec).unwrap_or_else(|e| panic!("{what}: request body: {e}")) {
            for (content_type, media) in &body.content {
                media.schema(&spec).unwrap_or_else(|e| panic!("{what}: body {content_type}: {e}"));
            }
        }
        let responses = op.responses.as_ref().unwrap_or_else(|| panic!("{what}: no responses"));
        assert!(!responses.is_empty(), "{what}: no responses");
        for (status, response) in responses {
            let response = response.resolve(&spec).unwrap_or_else(|e| panic!("{what} {status}: {e}"));
            assert!(response.description.as_deref().is_some_and(|d| !d.is_empty()), "{what} {status}: description");
            for (content_type, media) in &response.content {
                media.schema(&spec).unwrap_or_else(|e| panic!("{what} {status} {content_type}: {e}"));
            }
        }
    }
    let components = spec.components.as_ref().expect("components");
    for (name, schema) in &components.schemas {
        schema.resolve(&spec).unwrap_or_else(|e| panic!("schema {name}: {e}"));
    }
    let declared_tags: BTreeSet<&str> = spec.tags.iter().map(|t| t.name.as_str()).collect();
    for (path, method, op) in spec.operations() {
        for tag in &op.tags {
            assert!(declared_tags.contains(tag.as_str()), "{method} {path}: undeclared tag {tag}");
        }
    }
}

/// The error envelope is documented as the handlers build it.
#[actix_web::test]
async fn the_error_schema_matches_real_errors() {
    let app = spawn_app().await;
    let (_, doc) = fetch_document(&app).await;
    let error_body = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error_body["required"], json!(["error"]));
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert_eq!(detail["required"], json!(["code", "message"]));
    let fields: BTreeSet<&str> =
        detail["properties"].as_object().expect("properties").keys().map(String::as_str).collect();
    assert_eq!(fields, BTreeSet::from(["code", "message", "available", "waitlist"]));

    let response = app.client.get(app.url("/v1/venues/nowhere")).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.expect("JSON");
    let keys: BTreeSet<&str> = body["error"].as_object().expect("error object").keys().map(String::as_str).collect();
    assert!(keys.is_subset(&fields), "{body}");
}

/// What the real server answers for `(method, template)` with example path params.
async fn call(app: &TestApp, method: &str, template: &str, id: &str) -> (StatusCode, Value) {
    let start = crate::helpers::rfc3339(app.window(1));
    let path = template.replace("{venue}", VENUE).replace("{id}", id).replace("{start}", &start);
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = app.client.request(method.clone(), app.url(&path));
    if method == Method::POST || method == Method::PUT {
        request = request.header("Content-Type", "application/json").body("{}");
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status();
    if status.is_success() && template.ends_with("/stream") {
        return (status, Value::Null); // an event stream does not end: its head is the answer
    }
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn it_lists_every_public_route_and_each_one_is_served() {
    // With `[payments.stripe]` so that the webhook route exists too.
    let stripe = MockServer::start().await;
    let app = stripe_app(&stripe, 4).await;
    let (_, doc) = fetch_document(&app).await;
    let listed = operations(&doc);
    assert_eq!(listed, set(DOCUMENTED), "documented operations");
    for page in set(HTML_PAGES) {
        assert!(!listed.contains(&page), "{page:?} is an HTML page, not API");
    }

    let reservation = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    // In the order above: the reservation is read before it is cancelled.
    for (method, template) in DOCUMENTED {
        let (status, body) = call(&app, method, template, &reservation.id).await;
        let what = format!("{method} {template}: {status} {body}");
        assert!(
            !(status == StatusCode::NOT_FOUND && body["error"]["code"] == "not_found"),
            "{what}: the route does not exist"
        );
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
        let documented = &doc["paths"][*template][method.to_lowercase()]["responses"];
        assert!(documented.get(status.as_str()).is_some(), "{what}: status not documented in {documented}");
    }
    // The pages exist too, only undocumented.
    let other = created(app.reserve_in(VENUE, app.window(1), 1).await).await;
    for (method, template) in HTML_PAGES {
        let (status, body) = call(&app, method, template, &other.id).await;
        assert!(!(status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED), "{template}: {body}");
    }
}

/// A shell-like split of one command line: quotes group, a `#` word starts a comment.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => (quote, in_word) = (Some(c), true),
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Every `curl` command of the README as `(method, path template)`: the path after the
/// host without its query, `$ID` as `{id}`, a concrete venue id as `{venue}` and a
/// window start as `{start}`.
fn readme_curls() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in readme.lines() {
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let command = std::mem::take(&mut pending);
        let words = words(&command);
        if words.first().map(String::as_str) != Some("curl") {
            continue;
        }
        let mut method = None;
        let mut url = None;
        let mut has_data = false;
        let mut args = words.iter().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-X" | "--request" => method = args.next().cloned(),
                "-d" | "--data" | "--data-raw" | "--data-binary" => has_data = args.next().is_some(),
                "-H" | "--header" => _ = args.next(),
                a if a.starts_with("http://") || a.starts_with("https://") => url = Some(a.to_owned()),
                _ => {}
            }
        }
        let url = url.unwrap_or_else(|| panic!("no URL in README command: {command}"));
        let method = method.unwrap_or_else(|| if has_data { "POST" } else { "GET" }.to_owned());
        let after_scheme = url.split_once("://").expect("a scheme").1;
        let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
        let path = path.split(['?', '#']).next().expect("a path");
        let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
        for i in 0..segments.len() {
            if segments[i] == "$ID" {
                segments[i] = "{id}".into();
            }
            if i >= 2 && ["v1", "admin"].contains(&segments[i - 2].as_str()) && segments[i - 1] == "venues" {
                segments[i] = "{venue}".into();
            }
            if i >= 1 && segments[i - 1] == "windows" && i + 1 < segments.len() {
                segments[i] = "{start}".into();
            }
        }
        commands.push((method.to_uppercase(), segments.join("/")));
    }
    commands
}

#[test]
fn the_readme_parser_reads_curl_commands() {
    assert_eq!(words("curl -s 'http://h/a?b=1&c=2' # note"), ["curl", "-s", "http://h/a?b=1&c=2"]);
    assert_eq!(words("curl -H 'A: b c' -d '{\"q\": 2}'"), ["curl", "-H", "A: b c", "-d", "{\"q\": 2}"]);
}

#[actix_web::test]
async fn the_readme_curl_examples_are_documented_routes() {
    let app = spawn_app().await;
    let (_, doc) = fetch_document(&app).await;
    let listed = operations(&doc);
    let pages = set(HTML_PAGES);
    let curls = readme_curls();
    assert!(curls.len() >= 10, "the README's API section has its curl examples: {curls:?}");
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for route in &curls {
        if listed.contains(route) {
            *by_kind.entry("documented").or_default() += 1;
        } else {
            assert!(pages.contains(route), "README example {route:?} is not in /openapi.json");
            *by_kind.entry("page").or_default() += 1;
        }
    }
    assert!(by_kind["documented"] >= 9, "{by_kind:?}");
    for expected in [("POST", "/v1/venues/{venue}/reservations"), ("POST", "/v1/reservations/{id}/cancel")] {
        assert!(curls.contains(&(expected.0.into(), expected.1.into())), "{expected:?} not parsed from the README");
    }
}

#[actix_web::test]
async fn the_docs_page_is_self_contained_html() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs")).send().await.expect("/docs is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let csp = response.headers()["content-security-policy"].to_str().expect("ASCII").to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    let html = response.text().await.expect("a body");
    assert!(html.starts_with("<!doctype html>"), "an HTML document");
    assert!(html.contains("fetch(\"/openapi.json\")"), "the page renders the served document");
    let lower = html.to_ascii_lowercase();
    for needle in
        ["http://", "https://", "http:", "https:", "src=\"//", "href=\"//", "url(", "@import", "<link", "<script src"]
    {
        assert!(!lower.contains(needle), "the docs page references {needle:?}: no external resources");
    }
}

/// The docs page runs in a real browser under its hash-based policy (an inline script
/// the policy did not allow would leave `#main` empty).
#[actix_web::test]
async fn the_docs_page_renders_in_a_browser_under_its_policy() {
    crate::browser::bounded(async {
        let app = spawn_app().await;
        let driver = crate::browser::Driver::start();
        let browser = driver.browser(crate::browser::Size::Desktop).await;
        browser.goto(&app.url("/docs")).await.expect("the docs page loads");
        browser.until_text("#main", |t| t.contains("/v1/venues/{venue}/reservations")).await;
        browser.client.clone().close().await.expect("the session closes");
    })
    .await;
}
