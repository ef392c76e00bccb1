//! The availability side of the facade: counts of a venue's windows over a range. A
//! window with no events is answered from its schedule without starting an actor; one
//! with events asks its actor, so the counts reflect everything durable.

use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;

use super::booking::ask;
use super::messages::GetCounts;
use super::{Booking, BookingError};
use crate::domain::{Venue, Window, WindowCounts, WindowKey};
use crate::limits::{SALES_HORIZON_DAYS_MAX, WINDOWS_PER_QUERY_MAX};

impl Booking {
    /// Counts of every window starting in `[from, to)`; default: the current window.
    pub async fn windows(
        &self,
        venue_id: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<(WindowKey, WindowCounts)>, BookingError> {
        let venue = self.venue(venue_id)?;
        let now = self.shared.clock.now();
        let from = from.unwrap_or(now);
        let to = to.unwrap_or(from + chrono::Duration::nanoseconds(1));
        let counts = Self::window_starts(now, from, to)?.into_iter().map(|start| self.counts(&venue, start, now));
        try_join_all(counts).await
    }

    /// Starts of the windows overlapping `[from, to)`, which must lie near `now` and
    /// span at most `WINDOWS_PER_QUERY_MAX` windows.
    pub(super) fn window_starts(
        now: DateTime<Utc>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, BookingError> {
        let reach = chrono::Duration::days(i64::from(SALES_HORIZON_DAYS_MAX));
        if from < now - reach || to > now + reach {
            return Err(BookingError::BadRange(format!(
                "from and to must lie within {SALES_HORIZON_DAYS_MAX} days of now"
            )));
        }
        if to <= from {
            return Err(BookingError::BadRange("`to` must be after `from`".into()));
        }
        let starts: Vec<_> = crate::domain::window_starts_covering(from, to).take(WINDOWS_PER_QUERY_MAX + 1).collect();
        if starts.len() > WINDOWS_PER_QUERY_MAX {
            return Err(BookingError::BadRange(format!("at most {WINDOWS_PER_QUERY_MAX} windows per query")));
        }
        Ok(starts)
    }

    /// Counts of one window; a window with no events is answered without an actor.
    async fn counts(
        &self,
        venue: &Venue,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(WindowKey, WindowCounts), BookingError> {
        let key = WindowKey::new(venue.id.clone(), start);
        let addr = match self.registry.live_window(&key) {
            Some(addr) => addr,
            None if self.shared.log.window_exists(&key)? => self.actor(venue, start)?,
            None => return Ok((key.clone(), Window::unopened(key, venue.capacity_at(start)).counts_at(now))),
        };
        Ok((key, ask(addr, GetCounts).await??))
    }
}
