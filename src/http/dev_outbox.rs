//! `GET /dev/outbox`: the offer e-mails the dev mode keeps instead of sending (payment
//! provider `dev` and no `[notify.smtp]`), newest first, as an HTML page (everything
//! escaped) or, with `?format=json`, as JSON.

use actix_web::{HttpResponse, web};
use html_escape::encode_text as esc;
use serde::Deserialize;

use super::{AppState, method_not_allowed};
use crate::notify::outbox::OutboxEntry;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dev/outbox").get(page).default_service(web::to(method_not_allowed)));
}

#[derive(Deserialize)]
struct OutboxQuery {
    format: Option<String>,
}

/// No script, one inline style block.
const OUTBOX_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

async fn page(state: web::Data<AppState>, query: web::Query<OutboxQuery>) -> HttpResponse {
    let messages = state.dev_outbox.as_ref().map(|o| o.recent()).unwrap_or_default();
    if query.format.as_deref() == Some("json") {
        return HttpResponse::Ok().json(serde_json::json!({ "messages": messages }));
    }
    super::pages::serve_with(OUTBOX_CSP, "text/html; charset=utf-8", render(&messages))
}

fn render(messages: &[OutboxEntry]) -> String {
    let items: String = messages
        .iter()
        .map(|m| {
            format!(
                "<article><h2>{subject}</h2><p>To <strong class=\"to\">{to}</strong>, {at}</p><pre>{body}</pre></article>",
                subject = esc(&m.subject),
                to = esc(&m.to),
                at = m.sent_at.to_rfc3339(),
                body = esc(&m.body),
            )
        })
        .collect();
    let empty = if messages.is_empty() { "<p>No messages yet.</p>" } else { "" };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>qskip dev outbox</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}\
         article{{border-top:1px solid #ccc}}pre{{white-space:pre-wrap}}</style></head><body><main>\
         <h1>Dev outbox</h1><p>Offer e-mails kept instead of sent (no <code>[notify.smtp]</code> configured).</p>\
         {empty}{items}</main></body></html>"
    )
}
