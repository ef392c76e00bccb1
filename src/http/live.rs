//! `GET /v1/venues/{venue}/stream`: live window counts as Server-Sent Events.
//!
//! A stream starts with the current counts of every window in its range (or, with a
//! usable `Last-Event-ID`, with exactly the updates the client missed), then pushes
//! each durable change of a window in range as it is published by the window actors
//! (see `actors::live`). Idle streams get a keep-alive comment every
//! `LIVE_KEEPALIVE_SECS`. A client that stops reading is dropped by the hub and its
//! stream ends; EventSource reconnects and resumes from its last id.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use utoipa::{IntoParams, ToSchema};

use super::client_time;
use super::dto::WindowJson;
use super::openapi::ErrorBody;
use super::{ApiError, AppState, method_not_allowed};
use crate::actors::Booking;
use crate::actors::live::{Change, LiveHub, LiveUpdate, Start, Subscription};
use crate::domain::{WindowCounts, WindowKey, window_start_of};
use crate::limits::{LIVE_DEFAULT_WINDOWS, LIVE_KEEPALIVE_SECS, LIVE_RETRY_MS, WINDOW_SECS};

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
    fn new(key: &WindowKey, counts: &WindowCounts, version: u64) -> Self {
        Self { window: WindowJson::new(key, counts), version }
    }
}

/// One SSE message: `id`, `event: window`, and the JSON on one `data` line.
fn frame(id: &str, window: &LiveWindowJson) -> String {
    let data = serde_json::to_string(window).expect("window counts always serialize");
    format!("id: {id}\nevent: window\ndata: {data}\n\n")
}

/// Which window counts a stream passes on: in range, newer than what it already sent.
struct Filter {
    first: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Versions sent in the last full read; an update queued before that read may be
    /// older than it and is skipped.
    sent: HashMap<DateTime<Utc>, u64>,
}

impl Filter {
    fn passes(&self, key: &WindowKey, version: u64) -> bool {
        let newer = self.sent.get(&key.start).is_none_or(|sent| version > *sent);
        key.start >= self.first && key.start < self.to && newer
    }
}

/// What a running stream owns; dropping it (the client went away) unsubscribes.
struct Stream {
    subscription: Subscription,
    filter: Filter,
    hub: LiveHub,
    booking: Arc<Booking>,
    venue: String,
    from: DateTime<Utc>,
}

impl Stream {
    /// The frame of a feed entry for this stream, if it passes: a window's counts, or
    /// after a schedule change the whole range read afresh. `Err`: the read failed.
    async fn render(&mut self, update: &LiveUpdate) -> Result<Option<String>, ApiError> {
        let id = self.hub.event_id(update.seq);
        match &update.change {
            Change::Window { key, counts, version } if self.filter.passes(key, *version) => {
                Ok(Some(frame(&id, &LiveWindowJson::new(key, counts, *version))))
            }
            Change::Window { .. } => Ok(None),
            Change::Schedule => self.read_all(&id).await.map(Some),
        }
    }

    /// Frames of every window in range as they are now, all with the event id `id`.
    async fn read_all(&mut self, id: &str) -> Result<String, ApiError> {
        let venue = self.booking.venue(&self.venue)?;
        let mut frames = String::new();
        for (key, counts, version) in self.booking.live_snapshot(&venue, self.from, self.filter.to).await? {
            frames += &frame(id, &LiveWindowJson::new(&key, &counts, version));
            self.filter.sent.insert(key.start, version);
        }
        Ok(frames)
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
    let venue = state.booking.venue(&venue)?;
    let now = state.booking.now();
    let from = client_time::checked_opt(query.from, now)?.unwrap_or(now);
    let to = client_time::checked_opt(query.to, now)?
        .unwrap_or(from + Duration::seconds(WINDOW_SECS) * LIVE_DEFAULT_WINDOWS);
    let last_event_id = req.headers().get("Last-Event-ID").and_then(|v| v.to_str().ok());
    state.booking.check_live_range(from, to)?;
    let hub = state.booking.live().clone();
    let subscription = hub.subscribe(&venue.id, last_event_id)?;
    let filter = Filter { first: window_start_of(from), to, sent: HashMap::new() };
    let venue = venue.id.to_string();
    let booking = state.booking.clone();
    let mut stream = Stream { subscription, filter, hub, booking, venue, from };
    let mut first = format!("retry: {LIVE_RETRY_MS}\n\n");
    match &stream.subscription.start {
        Start::Replay(missed) => {
            for update in missed.clone() {
                first += &stream.render(&update).await?.unwrap_or_default();
            }
        }
        Start::Snapshot { seq } => first += &stream.read_all(&stream.hub.event_id(*seq)).await?,
    }
    tracing::debug!(venue = %stream.venue, "live stream opened");
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events(Bytes::from(first), stream)))
}

/// The body: `first`, then updates as they come, with keep-alives while idle.
fn events(first: Bytes, stream: Stream) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let keepalive = StdDuration::from_secs(LIVE_KEEPALIVE_SECS);
    let state = (Some(first), stream, Instant::now() + keepalive);
    futures_util::stream::unfold(state, move |(first, mut s, mut next_keepalive)| async move {
        if let Some(first) = first {
            return Some((Ok(first), (None, s, next_keepalive)));
        }
        loop {
            tokio::select! {
                update = s.subscription.updates.recv() => {
                    // `None`: the hub dropped this subscriber (it fell behind); end the
                    // stream so the client reconnects and resumes. A failed re-read
                    // ends it too: the reconnect reads again.
                    let update = update?;
                    if let Some(frames) = s.render(&update).await.ok()? {
                        return Some((Ok(Bytes::from(frames)), (None, s, Instant::now() + keepalive)));
                    }
                }
                () = tokio::time::sleep_until(next_keepalive) => {
                    next_keepalive = Instant::now() + keepalive;
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (None, s, next_keepalive)));
                }
            }
        }
    })
}
