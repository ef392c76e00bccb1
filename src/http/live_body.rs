//! The body of one live stream (`GET /v1/venues/{venue}/stream`): what it has still to
//! send, in order, and when.
//!
//! Output goes through one queue of pending entries - window counts not yet rendered,
//! or frames already rendered - and leaves in pieces of at most `LIVE_CHUNK_BYTES`,
//! each rendered only when the connection asks for the next: a whole range read
//! afresh (a stream's start, or after a schedule change) waits as compact counts, not
//! as text, until the client takes it. Keep-alives follow the injected clock: one
//! goes out when nothing was sent for `LIVE_KEEPALIVE_SECS` of its time (checked every
//! `LIVE_KEEPALIVE_TICK_MS`), so tests can move the clock instead of waiting.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use super::ApiError;
use super::live::LiveWindowJson;
use crate::domain::{WindowCounts, WindowKey};
use crate::limits::{LIVE_CHUNK_BYTES, LIVE_KEEPALIVE_SECS, LIVE_KEEPALIVE_TICK_MS, LIVE_RETRY_MS};
use crate::service::Services;
use crate::service::availability::{Change, LiveHub, LiveUpdate, Start, Subscription};

/// One SSE message: `id`, `event: window`, and the JSON on one `data` line.
fn frame(id: &str, window: &LiveWindowJson) -> String {
    let data = serde_json::to_string(window).expect("window counts always serialize");
    format!("id: {id}\nevent: window\ndata: {data}\n\n")
}

/// Which window counts a stream passes on: in range, newer than what it already sent.
pub struct Filter {
    pub first: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Versions queued by the last full read; an update published before that read
    /// may be older than it and is skipped.
    pub sent: HashMap<DateTime<Utc>, u64>,
}

impl Filter {
    fn passes(&self, key: &WindowKey, version: u64) -> bool {
        let newer = self.sent.get(&key.start).is_none_or(|sent| version > *sent);
        key.start >= self.first && key.start < self.to && newer
    }
}

/// Output not yet handed to the connection.
enum Pending {
    /// Counts of one window under event id `id` (`Arc`: one id serves a whole range).
    Counts {
        id: Arc<str>,
        key: WindowKey,
        counts: WindowCounts,
        version: u64,
    },
    Text(String),
}

/// What a running stream owns; dropping it (the client went away) unsubscribes.
pub struct Stream {
    subscription: Subscription,
    filter: Filter,
    hub: LiveHub,
    services: Services,
    pub venue: String,
    from: DateTime<Utc>,
    pending: VecDeque<Pending>,
    /// When output last left, by the injected clock.
    last_sent: DateTime<Utc>,
}

impl Stream {
    pub fn new(
        subscription: Subscription,
        filter: Filter,
        services: Services,
        venue: String,
        from: DateTime<Utc>,
    ) -> Self {
        let (hub, last_sent) = (services.availability.live_hub().clone(), services.now());
        let pending = VecDeque::from([Pending::Text(format!("retry: {LIVE_RETRY_MS}\n\n"))]);
        Self { subscription, filter, hub, services, venue, from, pending, last_sent }
    }

    /// Queues what the stream starts with: the missed updates, or the range as it is.
    pub async fn start(&mut self) -> Result<(), ApiError> {
        match &self.subscription.start {
            Start::Replay(missed) => {
                for update in missed.clone() {
                    self.queue(&update).await?;
                }
                Ok(())
            }
            Start::Snapshot { seq } => self.queue_all(self.hub.event_id(*seq).into()).await,
        }
    }

    /// Queues a feed entry if it passes: a window's counts, or after a schedule change
    /// the whole range read afresh. `Err`: the read failed.
    async fn queue(&mut self, update: &LiveUpdate) -> Result<(), ApiError> {
        let id: Arc<str> = self.hub.event_id(update.seq).into();
        match &update.change {
            Change::Window { key, counts, version } if self.filter.passes(key, *version) => {
                let (key, counts, version) = (key.clone(), *counts, *version);
                self.pending.push_back(Pending::Counts { id, key, counts, version });
                Ok(())
            }
            Change::Window { .. } => Ok(()),
            Change::Schedule => self.queue_all(id).await,
        }
    }

    /// Queues every window in range as it is now, all under the event id `id`.
    async fn queue_all(&mut self, id: Arc<str>) -> Result<(), ApiError> {
        let venue = self.services.venues.find(&self.venue)?;
        for (key, counts, version) in
            self.services.availability.live_snapshot(&venue, self.from, self.filter.to).await?
        {
            self.filter.sent.insert(key.start, version);
            self.pending.push_back(Pending::Counts { id: id.clone(), key, counts, version });
        }
        Ok(())
    }

    /// Renders pending output up to about `LIVE_CHUNK_BYTES`; `None` when none is left.
    fn next_chunk(&mut self) -> Option<Bytes> {
        let mut chunk = String::new();
        while chunk.len() < LIVE_CHUNK_BYTES
            && let Some(pending) = self.pending.pop_front()
        {
            match pending {
                Pending::Counts { id, key, counts, version } => {
                    chunk += &frame(&id, &LiveWindowJson::new(&key, &counts, version));
                }
                Pending::Text(text) => chunk += &text,
            }
        }
        (!chunk.is_empty()).then(|| {
            self.last_sent = self.services.now();
            Bytes::from(chunk)
        })
    }

    /// A keep-alive comment, if nothing left for `LIVE_KEEPALIVE_SECS` of clock time.
    fn keepalive(&mut self) -> Option<Bytes> {
        let now = self.services.now();
        (now - self.last_sent >= chrono::Duration::seconds(LIVE_KEEPALIVE_SECS as i64)).then(|| {
            self.last_sent = now;
            Bytes::from_static(b": keep-alive\n\n")
        })
    }
}

/// The body: pending output as the connection takes it, updates as they come, and
/// keep-alives while idle.
pub fn events(stream: Stream) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let tick = tokio::time::interval(StdDuration::from_millis(LIVE_KEEPALIVE_TICK_MS));
    futures_util::stream::unfold((stream, tick), |(mut s, mut tick)| async move {
        loop {
            if let Some(chunk) = s.next_chunk() {
                return Some((Ok(chunk), (s, tick)));
            }
            tokio::select! {
                update = s.subscription.updates.recv() => {
                    // `None`: the hub dropped this subscriber (it fell behind); end the
                    // stream so the client reconnects and resumes. A failed re-read
                    // ends it too: the reconnect reads again.
                    let update = update?;
                    s.queue(&update).await.ok()?;
                }
                _ = tick.tick() => {
                    if let Some(keepalive) = s.keepalive() {
                        return Some((Ok(keepalive), (s, tick)));
                    }
                }
            }
        }
    })
}
