//! `GET /v1/venues/{venue}/stream`: live window counts as Server-Sent Events.
//!
//! A stream starts with the current counts of every window in its range (or, with a
//! usable `Last-Event-ID`, with exactly the updates the client missed), then pushes
//! each durable change of a window in range as it is published by the window actors
//! (see `actors::live_hub`). Idle streams get a keep-alive comment every
//! `LIVE_KEEPALIVE_SECS` (see [`super::live_body`], which also bounds a stream's
//! memory). One client IP holds at most `[limits] streams_per_ip` streams (`429
//! too_many_streams`). A client that stops reading is dropped by the hub and its stream
//! ends, or its connection is closed once it accepts no data (`connections`);
//! EventSource reconnects and resumes from its last id.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::client_time;
use super::dto::WindowJson;
use super::error::ErrorBody;
use super::live_body::{Filter, Stream, events};
use super::rate_limit::client_ip;
use super::{ApiError, AppState, method_not_allowed};
use crate::domain::{WindowCounts, WindowKey, window_start_of};
use crate::limits::{LIVE_DEFAULT_WINDOWS, WINDOW_SECS};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/venues/{venue}/stream").get(stream).default_service(web::to(method_not_allowed)));
}

/// The windows a stream covers: those overlapping `[from, to)`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Start of the range, RFC 3339 UTC (default: now).
    #[param(example = "2026-11-28T18:00:00Z")]
    pub from: Option<DateTime<Utc>>,
    /// End of the range, exclusive (default: 24 hours after `from`). At most 672 windows.
    #[param(example = "2026-11-29T06:00:00Z")]
    pub to: Option<DateTime<Utc>>,
}

/// The data of one `window` event: a window's counts after a durable change (the
/// fields of `GET /v1/venues/{venue}/windows`) and their version.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveWindowJson {
    #[serde(flatten)]
    pub window: WindowJson,
    /// Orders the counts of one window within a stream: of two, the higher is newer.
    pub version: u64,
}

impl LiveWindowJson {
    pub(super) fn new(key: &WindowKey, counts: &WindowCounts, version: u64) -> Self {
        Self { window: WindowJson::new(key, counts), version }
    }
}

#[utoipa::path(
    get,
    path = "/v1/venues/{venue}/stream",
    tag = "venues",
    operation_id = "stream_windows",
    summary = "Live availability of the venue's windows (Server-Sent Events)",
    description = "A `text/event-stream`. Every message is `event: window` with an `id:` and one `data:` line holding \
                   a `LiveWindowJson`. It starts with the current counts of every window overlapping `[from, to)`, \
                   then sends a window's counts each time a hold, payment, cancellation, expiry or capacity change \
                   of a window in range is durable. Idle streams get a `: keep-alive` comment every 15 s. Reconnect \
                   with `Last-Event-ID` (EventSource does this itself) to get exactly the missed updates; if they \
                   are no longer buffered (or the service restarted), the current counts are sent again instead.",
    params(
        ("venue" = String, Path, description = "Venue id", example = "demo"),
        ("Last-Event-ID" = Option<String>, Header, description = "The `id` of the last event received", nullable = false),
        StreamQuery,
    ),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = LiveWindowJson),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 404, description = "`venue_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_range`", body = ErrorBody),
        (status = 429, description = "`too_many_streams` (this client has `streams_per_ip` streams open)",
         body = ErrorBody),
        (status = 503, description = "`too_many_subscribers` (1024 streams are open), `busy`, `unavailable`",
         body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
async fn stream(
    state: web::Data<AppState>,
    req: HttpRequest,
    venue: web::Path<String>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let venue = state.services.venues.find(&venue)?;
    let now = state.services.now();
    let from = client_time::checked_opt(query.from, now)?.unwrap_or(now);
    let to = client_time::checked_opt(query.to, now)?
        .unwrap_or(from + Duration::seconds(WINDOW_SECS) * LIVE_DEFAULT_WINDOWS);
    let last_event_id = req.headers().get("Last-Event-ID").and_then(|v| v.to_str().ok());
    state.services.availability.check_live_range(from, to)?;
    let client = client_ip(&req, state.client_ip_header.as_deref());
    let subscription = state.services.availability.subscribe(&venue.id, last_event_id, client)?;
    let filter = Filter { first: window_start_of(from), to, sent: HashMap::new() };
    let mut stream = Stream::new(subscription, filter, state.services.clone(), venue.id.to_string(), from);
    stream.start().await?;
    tracing::debug!(venue = %stream.venue, "live stream opened");
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events(stream)))
}
