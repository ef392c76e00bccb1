//! The pages for people: `/` (booking), `/reservations/{id}` (status of one
//! reservation), `/admin` (the operators' dashboard, which asks for the admin token and
//! uses the admin API) and their assets under `/assets/`. They are static files compiled into
//! the binary (`include_str!`: no build step, nothing fetched at run time) and use only
//! the public API from the browser. Every page and asset is served with a strict
//! Content-Security-Policy: scripts, styles and connections to this origin only, no
//! inline script, no framing.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::{ApiError, method_not_allowed};

/// Only this origin; no inline script or style, no plugins, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("pages/index.html");
const STATUS_HTML: &str = include_str!("pages/status.html");
const ADMIN_HTML: &str = include_str!("pages/admin.html");

/// `(name, content type, body)` of every file under `/assets/`.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("pages/app.css")),
    ("common.js", "text/javascript; charset=utf-8", include_str!("pages/common.js")),
    ("booking.js", "text/javascript; charset=utf-8", include_str!("pages/booking.js")),
    ("status.js", "text/javascript; charset=utf-8", include_str!("pages/status.js")),
    ("admin.js", "text/javascript; charset=utf-8", include_str!("pages/admin.js")),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(index).default_service(web::to(method_not_allowed)))
        .service(web::resource("/reservations/{id}").get(status).default_service(web::to(method_not_allowed)))
        .service(web::resource("/admin").get(admin).default_service(web::to(method_not_allowed)))
        .service(web::resource("/assets/{name}").get(asset).default_service(web::to(method_not_allowed)));
}

/// A page or asset with the security headers. The reservation id in a status page's
/// URL is a capability, so no Referer is ever sent from these pages.
fn serve(content_type: &str, body: &'static str) -> HttpResponse {
    serve_with(CSP, content_type, body)
}

/// A page with the security headers every page has, under the policy `csp` (which
/// must forbid framing): the one place these headers are set.
pub fn serve_with(csp: &str, content_type: &str, body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    debug_assert!(csp.contains("frame-ancestors 'none'"), "every page refuses to be framed");
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, csp.to_owned()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn index() -> HttpResponse {
    serve("text/html; charset=utf-8", INDEX_HTML)
}

/// The page is the same for every id: its script reads the reservation from the API.
async fn status(_id: web::Path<String>) -> HttpResponse {
    serve("text/html; charset=utf-8", STATUS_HTML)
}

/// The page holds no data: everything it shows comes from the admin API with a token.
async fn admin() -> HttpResponse {
    serve("text/html; charset=utf-8", ADMIN_HTML)
}

async fn asset(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) =
        ASSETS.iter().find(|(n, ..)| *n == name.as_str()).ok_or_else(|| ApiError::not_found("no such asset"))?;
    Ok(serve(content_type, body))
}
