//! The `Booking` side of recovery and of the state digest.
//!
//! At start-up the windows rebuilt from the newest snapshot and the log tail get their
//! actors directly with that state (instead of each re-reading its own events), which
//! also re-arms their expiry timers. The state digest asks every window's actor for its
//! state - reviving passivated ones - so it describes what the service would answer,
//! not what a separate read of the log says.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;

use super::booking::ask;
use super::messages::GetState;
use super::{Booking, BookingError};
use crate::domain::{Window, WindowFilter, WindowKey};
use crate::limits::WINDOW_SECS;
use crate::store::snapshot::state_digest;

impl Booking {
    /// Starts an actor for each recovered window, with its state. Returns how many
    /// started (beyond `ACTORS_LIVE_MAX`, the rest recover from their events on demand).
    pub fn start_recovered(&self, windows: impl IntoIterator<Item = Window>) -> usize {
        let mut started = 0;
        for window in windows {
            if self.venues.get(&window.key().venue_id).is_none() {
                tracing::warn!(window = %window.key(), "recovered window of an unknown venue; not started");
            } else if self.registry.start_with_state(window) {
                started += 1;
            }
        }
        started
    }

    /// Every window with events that `filter` selects, in key order, as its actor holds it.
    pub async fn window_states(&self, filter: &WindowFilter) -> Result<BTreeMap<WindowKey, Window>, BookingError> {
        // A window overlapping `from` starts at most one window length before it.
        let since = filter.from.map_or(DateTime::<Utc>::MIN_UTC, |from| from - chrono::Duration::seconds(WINDOW_SECS));
        let mut asks = Vec::new();
        for venue in self.venues.all().into_iter().filter(|v| filter.venue.as_ref().is_none_or(|id| *id == v.id)) {
            for start in self.shared.log.window_starts_since(&venue.id, since)? {
                let key = WindowKey::new(venue.id.clone(), start);
                if filter.matches(&key) {
                    let addr = self.actor(&venue, start)?;
                    asks.push(async move { Ok::<_, BookingError>(*ask(addr, GetState).await??) });
                }
            }
        }
        let windows = try_join_all(asks).await?;
        Ok(windows.into_iter().map(|w| (w.key().clone(), w)).collect())
    }

    /// The canonical digest of every selected window's state; `qskip replay` prints the
    /// same digest for the same log, so equal digests mean equal state.
    pub async fn state_digest(&self, filter: &WindowFilter) -> Result<String, BookingError> {
        Ok(state_digest(self.window_states(filter).await?.values()))
    }
}
