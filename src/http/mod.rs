//! HTTP adapters (actix-web): parse a request into a call on a service
//! ([`crate::service`]), turn the answer into JSON. No business rule lives here.
//!
//! Module map: [`error`] (the one place errors become responses), [`dto`] (public JSON
//! shapes), [`enums`] (their string enums, from the domain's), [`body`] (bounded JSON bodies), [`venues`], [`reservations`],
//! [`live`] (SSE stream of window counts), [`dev_checkout`] (the built-in payment page), [`dev_outbox`] (offer e-mails kept in dev mode), [`webhook`] (Stripe),
//! [`pages`] (booking, status and admin pages), [`health`], [`openapi`] (`/openapi.json` and the offline `/docs`
//! page), [`admin`] (`/v1/admin`, behind a bearer token).

pub mod admin;
mod bare_errors;
pub mod body;
pub mod client_time;
pub mod connections;
pub mod dev_checkout;
pub mod dev_outbox;
pub mod dto;
pub mod enums;
pub mod error;
pub mod health;
pub mod live;
mod live_body;
pub mod openapi;
pub mod pages;
pub mod rate_limit;
pub mod recovering;
pub mod request_id;
pub mod reservations;
pub mod server;
pub mod venues;
pub mod webhook;

use std::sync::Arc;

use actix_web::{HttpResponse, ResponseError, web};

use crate::service::Services;
use crate::store::Journal;
pub use error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub services: Services,
    pub journal: Journal,
    /// Base URL customers use, without a trailing slash.
    pub public_url: String,
    /// Serve the built-in dev payment page (the default provider).
    pub dev_payments: bool,
    /// Stripe endpoint secrets (`whsec_…`); the webhook route exists when non-empty.
    pub webhook_secrets: Vec<secrecy::SecretString>,
    /// Reserve through Stripe Checkout (provider `stripe`); `None` for the dev page.
    pub checkout: Option<Arc<crate::payments::CheckoutService>>,
    /// Per-IP rate limit on creating reservations; `None` when limits are off.
    pub rate_limit: Option<rate_limit::ReserveRateLimit>,
    /// Trusted header carrying the client IP (behind a proxy); else the peer address.
    pub client_ip_header: Option<String>,
    /// Bearer token of the admin API; `None` switches it off.
    pub admin_token: Option<secrecy::SecretString>,
    /// Hold TTL of a venue created without one.
    pub hold_ttl_secs_default: u32,
    /// This node's view of the cluster, in cluster mode (`GET /v1/admin/cluster`).
    pub cluster: Option<tokio::sync::watch::Receiver<std::sync::Arc<crate::cluster::ClusterView>>>,
    /// Offer e-mails kept instead of sent (dev payments without SMTP): `/dev/outbox`.
    pub dev_outbox: Option<crate::notify::DevOutbox>,
}

/// Registers every route of the public contract.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    let dev_payments = state.dev_payments;
    let dev_outbox = state.dev_outbox.is_some();
    let stripe_webhook = !state.webhook_secrets.is_empty();
    cfg.app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::bad_query(e).into()))
        .app_data(web::PathConfig::default().error_handler(|e, _| ApiError::bad_path(e).into()))
        // Routes are tried in this order, and every pattern with a `{segment}` costs a
        // regex match: the hot paths (reserve, then availability) come first. The
        // patterns never overlap, so the order changes nothing else. (Profile of the
        // spread load: about 4.5% of the CPU went to matching the five dynamic
        // patterns registered before the reserve route.)
        .configure(reservations::routes)
        .configure(venues::routes)
        .configure(health::routes)
        .configure(live::routes)
        .configure(openapi::routes)
        .configure(pages::routes)
        .configure(admin::routes);
    if dev_payments {
        cfg.configure(dev_checkout::routes);
    }
    if dev_outbox {
        cfg.configure(dev_outbox::routes);
    }
    if stripe_webhook {
        cfg.configure(webhook::routes);
    }
}

/// Answer for a path no route matches.
pub async fn not_found() -> HttpResponse {
    ApiError::not_found("no such route").error_response()
}

/// Answer for a known path with a method it does not take.
pub async fn method_not_allowed() -> HttpResponse {
    ApiError::method_not_allowed().error_response()
}
