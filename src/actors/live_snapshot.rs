//! The current state a live stream starts with: every window of a range with its
//! counts and version, read through the window actors like any other answer (so only
//! durable state is shown).

use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;

use super::booking::ask;
use super::messages::GetLiveCounts;
use super::{Booking, BookingError};
use crate::domain::{Venue, Window, WindowCounts, WindowKey};
use crate::limits::{LIVE_RANGE_READ_BATCH, LIVE_RANGE_READS_MAX};

/// One window's counts and version (see `LiveHub::next_version`; 0 for a window
/// without an actor).
pub type VersionedCounts = (WindowKey, WindowCounts, u64);

/// Range reads for live streams running at once (process-wide).
static RANGE_READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LIVE_RANGE_READS_MAX);

impl Booking {
    /// Refuses a range a snapshot of which would be refused (checked before a stream
    /// that resumes from its replay buffer, and so reads no snapshot, is accepted).
    pub fn check_live_range(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), BookingError> {
        Self::window_starts(self.now(), from, to).map(drop)
    }

    /// Counts and versions of the venue's windows overlapping `[from, to)`.
    pub async fn live_snapshot(
        &self,
        venue: &Venue,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<VersionedCounts>, BookingError> {
        let starts = Self::window_starts(self.now(), from, to)?;
        // A schedule change makes every stream re-read its range at once: a thousand
        // streams would ask hundreds of actors each, all together, and starve every
        // other request. Reads take turns instead.
        let _turn = RANGE_READS.acquire().await.expect("the range-read semaphore is never closed");
        let now = self.now();
        let mut counts = Vec::with_capacity(starts.len());
        for some in starts.chunks(LIVE_RANGE_READ_BATCH) {
            counts.extend(try_join_all(some.iter().map(|start| self.versioned_counts(venue, *start, now))).await?);
            // Unopened windows are computed without awaiting anything: yield between
            // batches so a long range does not hold the worker thread from other requests.
            tokio::task::yield_now().await;
        }
        Ok(counts)
    }

    async fn versioned_counts(
        &self,
        venue: &Venue,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<VersionedCounts, BookingError> {
        let key = WindowKey::new(venue.id.clone(), start);
        let capacity = venue.capacity_at(start);
        let addr = match self.registry().live_window(&key) {
            Some(addr) => addr,
            None if self.log().window_exists(&key)? => self.actor(venue, start)?,
            None => return Ok((key.clone(), Window::unopened(key, capacity).counts_at(now), 0)),
        };
        let (counts, version) = ask(addr, GetLiveCounts).await??;
        Ok((key, counts, version))
    }
}
