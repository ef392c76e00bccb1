//! `GET /openapi.json`: the OpenAPI 3.1 document, generated (utoipa) from the
//! `#[utoipa::path]` attributes on the handlers and the DTOs' `ToSchema` derives.
//! `GET /docs`: a self-contained page (inline CSS and JS allowed by their SHA-256 in the
//! CSP, no other inline script, no external URL) that fetches
//! that document and renders it, so the docs work offline.
//!
//! The HTML pages (`/`, `/dev/checkout/...`) are not API and are left out of the document.
//! This module only collects: every schema is the type a handler serialises, defined
//! beside it.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use utoipa::openapi::{RefOr, Required};
use utoipa::{Modify, OpenApi};

use super::dto::{CreateReservationBody, OverrideJson, RefundJson, ReservationJson, VenueJson, WindowJson};
use base64::Engine as _;
use sha2::Digest as _;

use super::enums::{RefundReasonJson, ReservationStatusJson};
use super::error::{ErrorBody, ErrorDetail};
use super::health::StatusJson;
use super::method_not_allowed;
use super::webhook::WebhookReceipt;

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
        super::live::stream,
        super::reservations::create,
        super::reservations::show,
        super::reservations::cancel,
        super::webhook::receive,
        super::admin::venues::save,
        super::admin::windows::reservations,
        super::admin::reservations::release,
        super::admin::refunds::owed,
        super::admin::refunds::retry,
        super::admin::activity::activity,
        super::admin::backup::backup,
        super::admin::cluster::cluster,
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
        super::live::LiveWindowJson,
        CreateReservationBody,
        ReservationJson,
        RefundJson,
        ReservationStatusJson,
        RefundReasonJson,
        ErrorBody,
        ErrorDetail,
        StatusJson,
        WebhookReceipt,
        super::admin::dto::VenueBody,
        super::admin::dto::OverrideBody,
        super::admin::dto::VenueChangeJson,
        super::admin::dto::AdminReservationJson,
        super::admin::dto::WindowReservationsJson,
        super::admin::activity::ActivityJson,
        super::admin::refunds::OwedRefundJson,
        super::admin::cluster::ClusterJson,
        super::admin::cluster::ClusterNodeJson,
        super::admin::cluster::ShardOwnerJson,
    )),
    modifiers(&OptionalReservationBody, &AdminBearer),
    tags(
        (name = "venues", description = "Venues and the availability of their windows"),
        (name = "reservations", description = "Holds: reserve, follow, cancel"),
        (name = "payments", description = "Payment provider callbacks"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "admin", description = "Operators: venues, schedules, holds. `Authorization: Bearer <admin_token>`"),
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

/// The admin routes' security scheme: `Authorization: Bearer <admin_token>`.
struct AdminBearer;

impl Modify for AdminBearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("The config's admin_token"));
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("admin_token", SecurityScheme::Http(scheme.build()));
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
    // One self-contained file that loads nothing but the document (works offline); its
    // one script and one style block are allowed by their hashes, nothing else inline.
    super::pages::serve_with(docs_csp(), "text/html; charset=utf-8", DOCS_HTML)
}

/// The docs page's policy: its inline script and style by SHA-256, no framing.
fn docs_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = |open: &str, close: &str| {
            let start = DOCS_HTML.find(open).expect("the docs page has this block") + open.len();
            let end = start + DOCS_HTML[start..].find(close).expect("the block is closed");
            let digest = sha2::Sha256::digest(&DOCS_HTML.as_bytes()[start..end]);
            format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        };
        format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
            hash("<script>", "</script>"),
            hash("<style>", "</style>"),
        )
    })
}

const DOCS_HTML: &str = include_str!("docs.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_page_names_no_external_url_and_allows_only_its_own_inline_blocks() {
        for scheme in ["http:", "https:", "//cdn", "src=\"//", "href=\"//"] {
            assert!(!DOCS_HTML.contains(scheme), "{scheme} in the docs page");
        }
        assert_eq!(DOCS_HTML.matches("<script").count(), 1, "one script block, allowed by its hash");
        assert_eq!(DOCS_HTML.matches("<style").count(), 1, "one style block, allowed by its hash");
        assert!(!docs_csp().contains("unsafe-inline"), "{}", docs_csp());
    }
}
