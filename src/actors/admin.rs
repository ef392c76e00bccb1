//! The operator side of the facade (admin API): create or change a venue, look into a
//! window, release a hold by hand. Every change is an event naming the operator.
//!
//! A schedule change reaches windows in two ways, and together they miss none: the
//! venue map is updated first, so a window actor started later opens with the new
//! capacity; then every window that already has events or a live actor, from the
//! current window on, is sent `Reschedule`. The venues change lock keeps two changes
//! from interleaving, so the windows end with the schedule of the latest change.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};

use super::messages::{ListReservations, Reschedule};
use super::venues::Saved;
use super::{Booking, BookingError};
use crate::domain::{Command, ReservationId, ReservationView, Venue, WindowCounts, WindowKey, window_start_of};
use crate::limits::{RESCHEDULE_CONCURRENCY_MAX, VENUES_MAX};

/// The outcome of a venue change: what was recorded and what each affected window now
/// counts (`overcommitted` where the cut went below what is committed).
#[derive(Debug)]
pub struct VenueChange {
    pub saved: Saved,
    pub windows: Vec<(WindowKey, WindowCounts)>,
}

impl Booking {
    /// Creates or replaces `venue` on behalf of the operator `by`. Holds and
    /// confirmations are never taken back; a failed window is reported as `Unavailable`
    /// after the venue change is durable, and repeating the same request finishes it.
    pub async fn save_venue(&self, venue: Venue, by: &str) -> Result<VenueChange, BookingError> {
        let guard = self.venues().lock_changes().await;
        if self.venues().get(&venue.id).is_none() && self.venues().all().len() >= VENUES_MAX {
            return Err(BookingError::TooManyVenues { max: VENUES_MAX });
        }
        let saved = self.venues().save(&guard, self.journal(), self.now(), venue.clone(), by).await?;
        if saved == Saved::Created {
            return Ok(VenueChange { saved, windows: Vec::new() });
        }
        let now = self.now();
        let starts = self.windows_to_reschedule(&venue, window_start_of(now))?;
        let reschedule = starts.into_iter().map(|start| self.reschedule(&venue, start, by));
        let mut results: Vec<_> =
            stream::iter(reschedule).buffer_unordered(RESCHEDULE_CONCURRENCY_MAX).collect::<Vec<_>>().await;
        results.sort_by_key(|result| result.as_ref().ok().map(|(key, _)| key.start));
        // Live streams re-read their windows: untouched ones changed without an event.
        self.live().publish_schedule(&venue.id);
        let windows = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(VenueChange { saved, windows })
    }

    /// Windows from `since` on that have events or a live actor. Read after the venue
    /// map changed (see the module header).
    fn windows_to_reschedule(
        &self,
        venue: &Venue,
        since: DateTime<Utc>,
    ) -> Result<BTreeSet<DateTime<Utc>>, BookingError> {
        let mut starts: BTreeSet<_> = self.log().window_starts_since(&venue.id, since)?.into_iter().collect();
        starts.extend(self.registry().live_starts(&venue.id, since));
        Ok(starts)
    }

    async fn reschedule(
        &self,
        venue: &Venue,
        start: DateTime<Utc>,
        by: &str,
    ) -> Result<(WindowKey, WindowCounts), BookingError> {
        let addr = self.actor(venue, start)?;
        let capacity = venue.capacity_at(start);
        let counts = super::booking::ask(addr, Reschedule { capacity, by: by.to_owned() }).await??;
        Ok((WindowKey::new(venue.id.clone(), start), counts))
    }

    /// Counts and every reservation of one window, emails included (operators only).
    pub async fn window_reservations(
        &self,
        venue_id: &str,
        start: DateTime<Utc>,
    ) -> Result<(WindowKey, WindowCounts, Vec<ReservationView>), BookingError> {
        let venue = self.venue(venue_id)?;
        if !crate::domain::is_window_aligned(start) {
            return Err(crate::domain::Rejection::WindowNotAligned.into());
        }
        let key = WindowKey::new(venue.id.clone(), start);
        if self.registry().live_window(&key).is_none() && !self.log().window_exists(&key)? {
            let (_, counts) = self.windows(venue_id, Some(start), Some(key.end())).await?.remove(0);
            return Ok((key, counts, Vec::new()));
        }
        let addr = self.actor(&venue, start)?;
        let (counts, reservations) = super::booking::ask(addr, ListReservations).await??;
        Ok((key, counts, reservations))
    }

    /// Releases a live hold on behalf of the operator `by` (its slots are free at once).
    pub async fn release(&self, id: ReservationId, by: &str) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::Release { reservation_id: id, by: by.to_owned() }).await
    }
}
