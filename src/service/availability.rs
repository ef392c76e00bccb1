//! Availability: the counts of a venue's windows over a range, for the windows API and
//! for live streams (the current state a stream starts with, and the hub it follows).
//! Counts come from the read view the window actors keep (`actors::read_view`: durable
//! counts only), so reads do not queue in the actors' mailboxes behind reservations. A
//! window the view does not know yet is looked up: with no events it is answered from
//! its schedule without starting an actor; with events its actor is asked (and starting
//! it fills the view).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;

use super::{ServiceError, Windows};
// What a live stream handles, from the hub the window actors publish to.
pub use crate::actors::live_hub::{Change, HubFull, LiveHub, LiveUpdate, Start, Subscription};
use crate::actors::messages::GetCounts;
use crate::actors::read_view::{ReadView, Seen};
use crate::clock::Clock;
use crate::domain::{Venue, VenueId, Window, WindowCounts, WindowKey};
use crate::limits::{LIVE_RANGE_READ_BATCH, LIVE_RANGE_READS_MAX, SALES_HORIZON_DAYS_MAX, WINDOWS_PER_QUERY_MAX};

/// Range reads for live streams running at once (process-wide).
static RANGE_READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LIVE_RANGE_READS_MAX);

/// One window's counts and version (see `LiveHub::next_version`; 0 for a window
/// without an actor).
pub type VersionedCounts = (WindowKey, WindowCounts, u64);

/// Cheap to clone.
#[derive(Clone)]
pub struct Availability {
    windows: Windows,
    clock: Arc<dyn Clock>,
    live: LiveHub,
    view: ReadView,
}

impl Availability {
    pub fn new(windows: Windows, clock: Arc<dyn Clock>, live: LiveHub, view: ReadView) -> Self {
        Self { windows, clock, live, view }
    }

    /// Counts of every window starting in `[from, to)`; default: the current window.
    pub async fn windows(
        &self,
        venue: &Venue,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<(WindowKey, WindowCounts)>, ServiceError> {
        let now = self.clock.now();
        let from = from.unwrap_or(now);
        let to = to.unwrap_or(from + chrono::Duration::nanoseconds(1));
        let counts = self.versioned_counts(venue, window_starts(now, from, to)?, now).await?;
        Ok(counts.into_iter().map(|(key, counts, _)| (key, counts)).collect())
    }

    /// Refuses a range a snapshot of which would be refused (checked before a stream
    /// that resumes from its replay buffer, and so reads no snapshot, is accepted).
    pub fn check_live_range(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ServiceError> {
        window_starts(self.clock.now(), from, to).map(drop)
    }

    /// Counts and versions of the venue's windows overlapping `[from, to)`.
    pub async fn live_snapshot(
        &self,
        venue: &Venue,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<VersionedCounts>, ServiceError> {
        let starts = window_starts(self.clock.now(), from, to)?;
        // A schedule change makes every stream re-read its range at once: a thousand
        // streams would read hundreds of windows each, all together, and starve every
        // other request. Reads take turns instead, and yield between batches.
        let _turn = RANGE_READS.acquire().await.expect("the range-read semaphore is never closed");
        let now = self.clock.now();
        let mut counts = Vec::with_capacity(starts.len());
        for some in starts.chunks(LIVE_RANGE_READ_BATCH) {
            counts.extend(self.versioned_counts(venue, some.to_vec(), now).await?);
            tokio::task::yield_now().await;
        }
        Ok(counts)
    }

    /// Follows the venue's durable count changes; resumes after `last_event_id` when
    /// the hub still has what came after it.
    /// `client`: the client's IP, whose streams are capped (`[limits] streams_per_ip`).
    pub fn subscribe(
        &self,
        venue: &VenueId,
        last_event_id: Option<&str>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Subscription, HubFull> {
        self.live.subscribe(venue, last_event_id, client)
    }

    /// The hub live streams follow (event ids, subscriber counts).
    pub fn live_hub(&self) -> &LiveHub {
        &self.live
    }

    /// Counts of the windows starting at `starts`, in order: what the read view knows
    /// is taken under one lock, and only the windows it does not know are asked.
    async fn versioned_counts(
        &self,
        venue: &Venue,
        starts: Vec<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VersionedCounts>, ServiceError> {
        let keys: Vec<WindowKey> = starts.into_iter().map(|start| WindowKey::new(venue.id.clone(), start)).collect();
        let seen = self.view.get_many(&keys, now);
        let mut counts: Vec<Option<VersionedCounts>> = Vec::with_capacity(keys.len());
        let mut unknown = Vec::new();
        for (key, seen) in keys.into_iter().zip(seen) {
            counts.push(match seen {
                Seen::Opened(window_counts, version) => Some((key, window_counts, version)),
                Seen::Unopened => Some(from_schedule(venue, key, now)),
                Seen::Unknown => {
                    unknown.push((counts.len(), key));
                    None
                }
            });
        }
        let asked = try_join_all(unknown.iter().map(|(_, key)| self.ask_counts(venue, key.clone(), now))).await?;
        for ((at, _), answer) in unknown.into_iter().zip(asked) {
            counts[at] = Some(answer);
        }
        Ok(counts.into_iter().map(|c| c.expect("every unknown window was asked")).collect())
    }

    /// Counts of a window the read view does not know: its actor's if it has events,
    /// else its schedule's (without starting an actor).
    async fn ask_counts(
        &self,
        venue: &Venue,
        key: WindowKey,
        now: DateTime<Utc>,
    ) -> Result<VersionedCounts, ServiceError> {
        match self.windows.ask_opened(&key, GetCounts).await? {
            Some((counts, version)) => Ok((key, counts, version)),
            None => {
                self.view.mark_unopened(&key);
                Ok(from_schedule(venue, key, now))
            }
        }
    }
}

/// The counts of a window with no events: its capacity from the venue's schedule.
fn from_schedule(venue: &Venue, key: WindowKey, now: DateTime<Utc>) -> VersionedCounts {
    let capacity = venue.capacity_at(key.start);
    (key.clone(), Window::unopened(key, capacity).counts_at(now), 0)
}

/// Starts of the windows overlapping `[from, to)`, which must lie near `now` and span
/// at most `WINDOWS_PER_QUERY_MAX` windows.
fn window_starts(
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, ServiceError> {
    let reach = chrono::Duration::days(i64::from(SALES_HORIZON_DAYS_MAX));
    if from < now - reach || to > now + reach {
        return Err(ServiceError::BadRange(format!(
            "from and to must lie within {SALES_HORIZON_DAYS_MAX} days of now"
        )));
    }
    if to <= from {
        return Err(ServiceError::BadRange("`to` must be after `from`".into()));
    }
    let starts: Vec<_> = crate::domain::window_starts_covering(from, to).take(WINDOWS_PER_QUERY_MAX + 1).collect();
    if starts.len() > WINDOWS_PER_QUERY_MAX {
        return Err(ServiceError::BadRange(format!("at most {WINDOWS_PER_QUERY_MAX} windows per query")));
    }
    Ok(starts)
}
