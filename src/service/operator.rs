//! What operators do and see (admin API): create or change a venue, look into a
//! window, release a hold by hand, read a venue's recent activity. Every change is an
//! event naming the operator.
//!
//! A schedule change reaches windows in two ways, and together they miss none: the
//! venue map is updated first, so a window actor started later opens with the new
//! capacity; then every window that already has events or a live actor, from the
//! current window on, is sent `Reschedule`. The venues change lock keeps two changes
//! from interleaving, so the windows end with the schedule of the latest change.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream};

use super::venues::Saved;
use super::{Availability, ServiceError, Venues, Windows};
// What the activity listing shows, as the window actors record it.
use crate::actors::activity::ActivityLog;
pub use crate::actors::activity::{Activity, ActivityKind};
use crate::actors::messages::{ListReservations, Reschedule};
use crate::clock::Clock;
use crate::domain::{
    Command, Rejection, ReservationId, ReservationView, Venue, VenueId, WindowCounts, WindowKey, is_window_aligned,
    window_start_of,
};
use crate::limits::{RESCHEDULE_CONCURRENCY_MAX, VENUES_MAX};
use crate::store::Journal;

/// The outcome of a venue change: what was recorded and what each affected window now
/// counts (`overcommitted` where the cut went below what is committed).
#[derive(Debug)]
pub struct VenueChange {
    pub saved: Saved,
    pub windows: Vec<(WindowKey, WindowCounts)>,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Operator {
    windows: Windows,
    venues: Venues,
    journal: Journal,
    clock: Arc<dyn Clock>,
    /// Counts of windows without events come from there.
    availability: Availability,
    activity: ActivityLog,
}

impl Operator {
    pub fn new(
        windows: Windows,
        venues: Venues,
        journal: Journal,
        clock: Arc<dyn Clock>,
        availability: Availability,
        activity: ActivityLog,
    ) -> Self {
        Self { windows, venues, journal, clock, availability, activity }
    }

    /// Creates or replaces `venue` on behalf of the operator `by`. Holds and
    /// confirmations are never taken back; a failed window is reported as `Unavailable`
    /// after the venue change is durable, and repeating the same request finishes it.
    pub async fn save_venue(&self, venue: Venue, by: &str) -> Result<VenueChange, ServiceError> {
        let guard = self.venues.lock_changes().await;
        if self.venues.get(&venue.id).is_none() && self.venues.all().len() >= VENUES_MAX {
            return Err(ServiceError::TooManyVenues { max: VENUES_MAX });
        }
        let saved = self.venues.save(&guard, &self.journal, self.clock.now(), venue.clone(), by).await?;
        if saved == Saved::Created {
            return Ok(VenueChange { saved, windows: Vec::new() });
        }
        // Read after the venue map changed (see the module header).
        let starts = self.windows.touched_since(&venue.id, window_start_of(self.clock.now()))?;
        let reschedule = starts.into_iter().map(|start| self.reschedule(&venue, start, by));
        let mut results: Vec<_> =
            stream::iter(reschedule).buffer_unordered(RESCHEDULE_CONCURRENCY_MAX).collect::<Vec<_>>().await;
        results.sort_by_key(|result| result.as_ref().ok().map(|(key, _)| key.start));
        // Live streams re-read their windows: untouched ones changed without an event.
        self.availability.live_hub().publish_schedule(&venue.id);
        let windows = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(VenueChange { saved, windows })
    }

    async fn reschedule(
        &self,
        venue: &Venue,
        start: DateTime<Utc>,
        by: &str,
    ) -> Result<(WindowKey, WindowCounts), ServiceError> {
        let key = WindowKey::new(venue.id.clone(), start);
        let capacity = venue.capacity_at(start);
        let counts = self.windows.ask(&key, Reschedule { capacity, by: by.to_owned() }).await?;
        Ok((key, counts))
    }

    /// Counts and every reservation of one window, emails included (operators only).
    pub async fn window_reservations(
        &self,
        venue: &Venue,
        start: DateTime<Utc>,
    ) -> Result<(WindowKey, WindowCounts, Vec<ReservationView>), ServiceError> {
        if !is_window_aligned(start) {
            return Err(Rejection::WindowNotAligned.into());
        }
        let key = WindowKey::new(venue.id.clone(), start);
        if let Some((counts, reservations)) = self.windows.ask_opened(&key, ListReservations).await? {
            return Ok((key, counts, reservations));
        }
        let (_, counts) = self.availability.windows(venue, Some(start), Some(key.end())).await?.remove(0);
        Ok((key, counts, Vec::new()))
    }

    /// Releases a live hold on behalf of the operator `by` (its slots are free at once).
    pub async fn release(&self, id: ReservationId, by: &str) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::Release { reservation_id: id, by: by.to_owned() }).await
    }

    /// The venue's recent refusals, late payments and refunds, newest first.
    pub fn activity(&self, venue: &VenueId) -> Vec<Activity> {
        self.activity.recent(venue)
    }
}
