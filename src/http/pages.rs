//! `GET /`: a minimal start page that lists the venues and reserves a queue skip in the
//! current window, then hands over to the checkout page. It uses only the public API.

use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(index).default_service(web::to(super::method_not_allowed)));
}

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>qskip</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}
li{margin:1rem 0}button{font-size:1rem;padding:.5rem 1rem}[role=alert]{color:#a00}</style></head>
<body><main><h1>qskip</h1><p>Skip the line: reserve a queue skip for the current 15-minute window.</p>
<ul id="venues"><li>Loading venues&hellip;</li></ul><p id="message" role="alert"></p></main>
<script>
const list = document.getElementById('venues'), message = document.getElementById('message');
async function reserve(venue) {
  message.textContent = '';
  const r = await fetch(`/v1/venues/${venue}/reservations`, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID()}, body: '{}'});
  const body = await r.json();
  if (r.status === 201) { location.href = body.checkout_url; } else { message.textContent = body.error.message; }
}
async function load() {
  const venues = await (await fetch('/v1/venues')).json();
  list.replaceChildren();
  for (const v of venues) {
    const [w] = await (await fetch(`/v1/venues/${v.id}/windows`)).json();
    const li = document.createElement('li'), button = document.createElement('button');
    li.textContent = `${v.name}: ${w.available} of ${w.capacity} left now, ${(v.price_minor / 100).toFixed(2)} ${v.currency.toUpperCase()} `;
    button.textContent = 'Reserve a queue skip';
    button.onclick = () => reserve(v.id);
    li.append(button); list.append(li);
  }
}
load().catch(e => { message.textContent = String(e); });
</script></body></html>"#;

async fn index() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(INDEX_HTML)
}
