//! The built-in dev payment provider: a local stand-in for Stripe Checkout so the
//! service runs with no external account. Pay confirms through exactly the actor
//! message Stripe's webhook uses (`PaymentRecords::confirm`), with payment ref `dev:<id>`, and
//! then returns to the reservation's status page `/reservations/{id}?result=...`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use html_escape::encode_text as esc;
use serde::Deserialize;

use super::reservations::parse_id;
use super::{ApiError, AppState, method_not_allowed};
use crate::domain::{ReservationStatus, ReservationView, Venue};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dev/checkout/{id}").get(page).default_service(web::to(method_not_allowed)))
        .service(web::resource("/dev/checkout/{id}/pay").post(pay).default_service(web::to(method_not_allowed)))
        .service(web::resource("/dev/checkout/{id}/cancel").post(cancel).default_service(web::to(method_not_allowed)));
}

#[derive(Deserialize)]
struct PageQuery {
    result: Option<String>,
}

async fn page(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = state.services.reservations.reservation(parse_id(&id)?).await?;
    let venue = state.services.venues.find(view.window.venue_id.as_str())?;
    let html = render(&view, &venue, query.result.as_deref());
    Ok(super::pages::serve_with(DEV_PAGE_CSP, "text/html; charset=utf-8", html))
}

/// No script at all; its one inline style block; forms post to this origin only.
const DEV_PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; \
                            frame-ancestors 'none'";

async fn pay(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let reservation_id = parse_id(&id)?;
    let outcome = state.services.payments.confirm(reservation_id, format!("dev:{reservation_id}")).await;
    Ok(back_to_page(&id, outcome.map(|_| "paid").map_err(ApiError::from)))
}

async fn cancel(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let outcome = state.services.reservations.cancel(parse_id(&id)?).await;
    Ok(back_to_page(&id, outcome.map(|_| "cancelled").map_err(ApiError::from)))
}

/// Post/redirect/get back to the status page (as Stripe returns to `success_url`): it
/// shows the outcome, and a reload does not pay twice.
fn back_to_page(id: &str, outcome: Result<&str, ApiError>) -> HttpResponse {
    let result = outcome.unwrap_or_else(|e| e.code);
    let location = format!("/reservations/{id}?result={result}");
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

fn render(view: &ReservationView, venue: &Venue, result: Option<&str>) -> String {
    let amount = view.amount.total_minor();
    let currency = view.amount.currency.to_uppercase();
    let local =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&venue.timezone).format("%a %d %b %H:%M %Z").to_string();
    let notice = result
        .map(|r| format!("<p role=\"status\" class=\"notice\">Result: <strong>{}</strong></p>", esc(r)))
        .unwrap_or_default();
    let buttons = match view.status {
        ReservationStatus::Held => format!(
            "<form method=\"post\" action=\"/dev/checkout/{id}/pay\"><button type=\"submit\">Pay {major}.{minor:02} {currency}</button></form>\
             <form method=\"post\" action=\"/dev/checkout/{id}/cancel\"><button type=\"submit\" class=\"secondary\">Cancel</button></form>",
            id = view.id,
            major = amount / 100,
            minor = amount % 100,
        ),
        _ => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>qskip dev checkout</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}\
         dt{{font-weight:bold}}button{{font-size:1.1rem;padding:.6rem 1.2rem;margin:.5rem 0}}\
         .secondary{{background:#eee}}.notice{{background:#eef;padding:.5rem}}</style></head><body><main>\
         <h1>Dev checkout</h1><p>This page stands in for Stripe Checkout (payment provider <code>dev</code>).</p>{notice}\
         <dl><dt>Venue</dt><dd>{name}</dd><dt>Window</dt><dd>{start} &ndash; {end}</dd><dt>Queue skips</dt><dd>{quantity}</dd>\
         <dt>Status</dt><dd id=\"status\">{status}</dd><dt>Hold expires</dt><dd>{expires}</dd></dl>{buttons}\
         <p><a href=\"/reservations/{id}\">Back to your reservation</a></p></main></body></html>",
        id = view.id,
        name = esc(&venue.name),
        start = local(view.window.start),
        end = local(view.window.end()),
        quantity = view.quantity,
        status = view.status,
        expires = local(view.expires_at),
    )
}
