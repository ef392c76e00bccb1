//! `GET /openapi.json`: the OpenAPI 3.1 document, generated (utoipa) from the
//! `#[utoipa::path]` attributes on the handlers and the DTOs' `ToSchema` derives.
//! `GET /docs`: a self-contained page (inline CSS and JS, no external URL) that fetches
//! that document and renders it, so the docs work offline.
//!
//! The HTML pages (`/`, `/dev/checkout/...`) are not API and are left out of the document.
//! The types below exist only to describe JSON that handlers build with `json!`.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::openapi::{RefOr, Required};
use utoipa::{Modify, OpenApi, ToSchema};

use super::dto::{CreateReservationBody, OverrideJson, RefundJson, ReservationJson, VenueJson, WindowJson};
use super::method_not_allowed;

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
    pub code: String,
    pub message: String,
    /// Slots still free; only on `sold_out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub available: Option<u32>,
}

/// `{"status": "ok"}` (`/healthz`) or `{"status": "ready"}` (`/readyz`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusJson {
    #[schema(example = "ok")]
    pub status: String,
}

/// The answer to a Stripe webhook delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceipt {
    /// Always `true`.
    pub received: bool,
    /// The reservation's status after the event, or `ignored`, `waiting`, `unknown_reservation`, or a
    /// rejection code.
    #[schema(example = "confirmed")]
    pub outcome: String,
}

/// Where a reservation stands (the strings of `domain::ReservationStatus`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Held,
    Confirmed,
    Expired,
    Cancelled,
    RefundOwed,
    Refunded,
}

/// Why a payment is refunded (the strings of `domain::RefundReason`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    SoldOut,
    WindowEnded,
    AlreadyConfirmed,
    AmountMismatch,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "qskip",
        description = "Sells queue skips (skip-the-line passes) per 15-minute window and never oversells. \
                       Times are RFC 3339 UTC, money is in minor units (cents), ids are random v4 UUIDs. \
                       Errors are always `{\"error\": {\"code\": \"...\", \"message\": \"...\"}}`; on any \
                       route, a method it does not take is `405 method_not_allowed`, and a path that is no route \
                       is `404 not_found`."
    ),
    paths(
        super::venues::list,
        super::venues::show,
        super::venues::windows,
        super::reservations::create,
        super::reservations::show,
        super::reservations::cancel,
        super::webhook::receive,
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        openapi_json,
        docs,
    ),
    components(schemas(
        VenueJson,
        OverrideJson,
        WindowJson,
        CreateReservationBody,
        ReservationJson,
        RefundJson,
        ReservationStatus,
        RefundReason,
        ErrorBody,
        ErrorDetail,
        StatusJson,
        WebhookReceipt,
    )),
    modifiers(&OptionalReservationBody),
    tags(
        (name = "venues", description = "Venues and the availability of their windows"),
        (name = "reservations", description = "Holds: reserve, follow, cancel"),
        (name = "payments", description = "Payment provider callbacks"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "docs", description = "This documentation"),
    )
)]
pub struct ApiDoc;

/// Every field of the create body is optional and an empty body means `{}`, so the body
/// itself is optional (utoipa marks a non-`Option` body required, and `Option` would
/// document a JSON `null`, which is refused).
struct OptionalReservationBody;

impl Modify for OptionalReservationBody {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let item = doc.paths.paths.get_mut("/v1/venues/{venue}/reservations");
        let body = item.and_then(|item| item.post.as_mut()).and_then(|op| op.request_body.as_mut());
        if let Some(RefOr::T(body)) = body {
            body.required = Some(Required::False);
        }
    }
}

/// The document as served, built once.
pub fn openapi_json_text() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes"))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").get(openapi_json).default_service(web::to(method_not_allowed)))
        .service(web::resource("/docs").get(docs).default_service(web::to(method_not_allowed)));
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "docs",
    operation_id = "openapi_document",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json")),
)]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(openapi_json_text())
}

#[utoipa::path(
    get,
    path = "/docs",
    tag = "docs",
    operation_id = "docs_page",
    summary = "The API documentation as a page that works offline",
    responses((status = 200, description = "HTML rendering of `/openapi.json`", body = String, content_type = "text/html")),
)]
async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page loads nothing but itself and the document: a CDN reference would be blocked.
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; \
             base-uri 'none'; form-action 'none'",
        ))
        .body(DOCS_HTML)
}

const DOCS_HTML: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>qskip API</title>
<style>
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#dadce0;--bg2:#f6f8fa}
body{font-family:system-ui,sans-serif;color:var(--fg);margin:0;line-height:1.45}
header{padding:1rem 1.5rem;border-bottom:1px solid var(--line)}
header h1{margin:0 0 .25rem}
.layout{display:flex;align-items:flex-start}
nav{position:sticky;top:0;max-height:100vh;overflow:auto;min-width:16rem;padding:1rem;border-right:1px solid var(--line);font-size:.9rem}
nav h3{margin:1rem 0 .25rem;text-transform:capitalize}
nav a{display:block;color:inherit;text-decoration:none;padding:.1rem 0}
nav a:hover{text-decoration:underline}
main{flex:1;padding:1rem 1.5rem;max-width:60rem}
section.op{border:1px solid var(--line);border-radius:6px;margin:1rem 0;padding:.75rem 1rem}
.op h3{margin:0;font-family:ui-monospace,monospace;font-size:1.05rem;word-break:break-all}
.m{display:inline-block;min-width:3.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .4rem;margin-right:.5rem;text-transform:uppercase}
.get{background:#1a73e8}.post{background:#188038}.put{background:#e37400}.patch{background:#9334e6}.delete{background:#d93025}
.summary{font-weight:600;margin:.4rem 0}
table{border-collapse:collapse;width:100%;margin:.4rem 0;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:var(--bg2)}
code{background:var(--bg2);padding:0 .2rem;border-radius:3px;font-family:ui-monospace,monospace}
.muted{color:var(--muted)}
h4{margin:.8rem 0 .2rem}
[role=alert]{color:#a00}
</style></head>
<body>
<header><h1 id="title">qskip API</h1><div id="about" class="muted">Loading <code>/openapi.json</code>&hellip;</div>
<p class="muted">Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI <span id="oas"></span>)</p></header>
<div class="layout"><nav id="nav" aria-label="Operations"></nav><main id="main"></main></div>
<script>
"use strict";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}
// Text with `code` spans, as the descriptions use them; never parsed as HTML.
function rich(text) {
  const span = el("span");
  String(text || "").split("`").forEach((part, i) => span.append(i % 2 ? el("code", {}, part) : part));
  return span;
}
function refName(ref) { return ref.split("/").pop(); }
function schemaId(name) { return "schema-" + name; }
function typeOf(s) {
  if (!s) return el("span", {class: "muted"}, "any");
  if (s.$ref) return el("a", {href: "#" + schemaId(refName(s.$ref))}, refName(s.$ref));
  const box = el("span");
  const alts = s.oneOf || s.anyOf || s.allOf;
  if (alts) {
    alts.forEach((a, i) => { if (i) box.append(s.allOf ? " & " : " | "); box.append(typeOf(a)); });
    return box;
  }
  let types = Array.isArray(s.type) ? s.type : (s.type ? [s.type] : []);
  if (!types.length) box.append(el("span", {class: "muted"}, "any"));
  types.forEach((t, i) => {
    if (i) box.append(" | ");
    if (t === "array") { box.append("array of "); box.append(typeOf(s.items)); } else box.append(t);
  });
  if (s.format) box.append(" (" + s.format + ")");
  if (s.enum) box.append(": " + s.enum.map(v => JSON.stringify(v)).join(" | "));
  const bounds = [];
  if (s.minimum !== undefined) bounds.push(">= " + s.minimum);
  if (s.maximum !== undefined) bounds.push("<= " + s.maximum);
  if (bounds.length) box.append(" [" + bounds.join(", ") + "]");
  return box;
}
function resolve(doc, obj) {
  if (obj && obj.$ref) {
    let target = doc;
    for (const key of obj.$ref.replace(/^#\//, "").split("/")) target = target && target[key];
    return target || obj;
  }
  return obj;
}
function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map(h => el("th", {}, h)))),
    el("tbody", {}, ...rows.map(r => el("tr", {}, ...r.map(c => el("td", {}, c))))));
}
function content(c) {
  const out = el("div");
  for (const [type, media] of Object.entries(c || {})) {
    out.append(el("div", {}, el("code", {}, type), " ", typeOf(media.schema)));
  }
  return out;
}
function operation(doc, path, method, op, common) {
  const id = "op-" + (op.operationId || method + path);
  const sec = el("section", {class: "op", id});
  sec.append(el("h3", {}, el("span", {class: "m " + method}, method), path));
  if (op.summary) sec.append(el("p", {class: "summary"}, rich(op.summary)));
  if (op.description) sec.append(el("p", {}, rich(op.description)));
  const params = [...(common || []), ...(op.parameters || [])].map(p => resolve(doc, p));
  if (params.length) {
    sec.append(el("h4", {}, "Parameters"));
    sec.append(table(["name", "in", "required", "type", "description"], params.map(p => [
      el("code", {}, p.name), p.in, p.required ? "yes" : "no", typeOf(p.schema),
      el("span", {}, rich(p.description), p.example !== undefined ? el("div", {class: "muted"}, "example: ", el("code", {}, String(p.example))) : null),
    ])));
  }
  if (op.requestBody) {
    const body = resolve(doc, op.requestBody);
    sec.append(el("h4", {}, "Request body" + (body.required ? "" : " (optional)")));
    if (body.description) sec.append(el("p", {}, rich(body.description)));
    sec.append(content(body.content));
  }
  sec.append(el("h4", {}, "Responses"));
  sec.append(table(["status", "description", "body", "headers"], Object.entries(op.responses || {}).map(([status, r]) => {
    r = resolve(doc, r);
    return [el("code", {}, status), rich(r.description), content(r.content),
      el("div", {}, ...Object.keys(r.headers || {}).map(h => el("div", {}, el("code", {}, h))))];
  })));
  return sec;
}
function schemaSection(doc, name, s) {
  const sec = el("section", {class: "op", id: schemaId(name)});
  sec.append(el("h3", {}, name));
  if (s.description) sec.append(el("p", {}, rich(s.description)));
  if (s.properties) {
    const required = new Set(s.required || []);
    sec.append(table(["field", "type", "required", "description"], Object.entries(s.properties).map(([k, p]) => [
      el("code", {}, k), typeOf(p), required.has(k) ? "yes" : "no",
      el("span", {}, rich(p.description), p.example !== undefined ? el("div", {class: "muted"}, "example: ", el("code", {}, JSON.stringify(p.example))) : null),
    ])));
  } else {
    sec.append(el("p", {}, typeOf(s)));
  }
  return sec;
}
async function load() {
  const response = await fetch("/openapi.json");
  if (!response.ok) throw new Error("GET /openapi.json answered " + response.status);
  const doc = await response.json();
  const info = doc.info || {};
  document.getElementById("title").textContent = (info.title || "API") + " " + (info.version || "");
  document.title = (info.title || "API") + " API";
  const about = document.getElementById("about");
  about.replaceChildren(rich(info.description));
  document.getElementById("oas").textContent = doc.openapi;
  const nav = document.getElementById("nav"), main = document.getElementById("main");
  const byTag = new Map();
  for (const t of doc.tags || []) byTag.set(t.name, {tag: t, ops: []});
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, {tag: {name: tag}, ops: []});
      byTag.get(tag).ops.push({path, method, op, common: item.parameters});
    }
  }
  for (const {tag, ops} of byTag.values()) {
    if (!ops.length) continue;
    nav.append(el("h3", {}, tag.name));
    main.append(el("h2", {}, tag.name));
    if (tag.description) main.append(el("p", {class: "muted"}, rich(tag.description)));
    for (const {path, method, op, common} of ops) {
      const section = operation(doc, path, method, op, common);
      nav.append(el("a", {href: "#" + section.id}, el("span", {class: "m " + method}, method), path));
      main.append(section);
    }
  }
  const schemas = Object.entries((doc.components || {}).schemas || {});
  if (schemas.length) {
    nav.append(el("h3", {}, "schemas"));
    main.append(el("h2", {}, "Schemas"));
    for (const [name, s] of schemas) {
      nav.append(el("a", {href: "#" + schemaId(name)}, name));
      main.append(schemaSection(doc, name, s));
    }
  }
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}
load().catch(e => {
  document.getElementById("main").replaceChildren(el("p", {role: "alert"}, "Cannot show the API: " + e));
});
</script></body></html>"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain;

    /// The documented strings, one per domain variant: a new variant breaks this match.
    fn status_doc(status: domain::ReservationStatus) -> &'static str {
        match status {
            domain::ReservationStatus::Held
            | domain::ReservationStatus::Confirmed
            | domain::ReservationStatus::Expired
            | domain::ReservationStatus::Cancelled
            | domain::ReservationStatus::RefundOwed
            | domain::ReservationStatus::Refunded => status.as_str(),
        }
    }

    fn reason_doc(reason: domain::RefundReason) -> &'static str {
        match reason {
            domain::RefundReason::SoldOut
            | domain::RefundReason::WindowEnded
            | domain::RefundReason::AlreadyConfirmed
            | domain::RefundReason::AmountMismatch => reason.as_str(),
        }
    }

    fn enum_values(doc: &serde_json::Value, schema: &str) -> Vec<String> {
        let values = doc["components"]["schemas"][schema]["enum"].as_array().expect("an enum schema");
        values.iter().map(|v| v.as_str().expect("string values").to_owned()).collect()
    }

    #[test]
    fn documented_enums_are_the_domain_strings() {
        use domain::RefundReason as R;
        use domain::ReservationStatus as S;
        let doc: serde_json::Value = serde_json::from_str(openapi_json_text()).expect("JSON");
        let statuses = [S::Held, S::Confirmed, S::Expired, S::Cancelled, S::RefundOwed, S::Refunded];
        assert_eq!(enum_values(&doc, "ReservationStatus"), statuses.map(status_doc));
        let reasons = [R::SoldOut, R::WindowEnded, R::AlreadyConfirmed, R::AmountMismatch];
        assert_eq!(enum_values(&doc, "RefundReason"), reasons.map(reason_doc));
    }

    #[test]
    fn the_docs_page_names_no_external_url() {
        for scheme in ["http:", "https:", "//cdn", "src=\"//", "href=\"//"] {
            assert!(!DOCS_HTML.contains(scheme), "{scheme} in the docs page");
        }
    }
}
