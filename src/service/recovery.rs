//! Recovery and the state digest.
//!
//! At start-up the windows rebuilt from the newest snapshot and the log tail get their
//! actors directly with that state (instead of each re-reading its own events), which
//! also re-arms their expiry timers. The state digest asks every window for its state -
//! reviving passivated ones - so it describes what the service would answer, not what
//! a separate read of the log says.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;

use super::{ServiceError, Venues, Windows};
use crate::actors::messages::GetState;
use crate::domain::{Window, WindowFilter, WindowKey};
use crate::limits::WINDOW_SECS;
use crate::store::snapshot::state_digest;

/// Cheap to clone.
#[derive(Clone)]
pub struct Recovery {
    windows: Windows,
    venues: Venues,
}

impl Recovery {
    pub fn new(windows: Windows, venues: Venues) -> Self {
        Self { windows, venues }
    }

    /// Starts an actor for each recovered window, with its state. Returns how many
    /// started (beyond `ACTORS_LIVE_MAX`, the rest recover from their events on demand).
    pub fn start_recovered(&self, windows: impl IntoIterator<Item = Window>) -> usize {
        let mut started = 0;
        for window in windows {
            if self.venues.get(&window.key().venue_id).is_none() {
                tracing::warn!(window = %window.key(), "recovered window of an unknown venue; not started");
            } else if self.windows.start_with_state(window) {
                started += 1;
            }
        }
        started
    }

    /// Every window with events that `filter` selects, in key order, as its actor holds it.
    pub async fn window_states(&self, filter: &WindowFilter) -> Result<BTreeMap<WindowKey, Window>, ServiceError> {
        // A window overlapping `from` starts at most one window length before it.
        let since = filter.from.map_or(DateTime::<Utc>::MIN_UTC, |from| from - chrono::Duration::seconds(WINDOW_SECS));
        let mut keys = Vec::new();
        for venue in self.venues.all().into_iter().filter(|v| filter.venue.as_ref().is_none_or(|id| *id == v.id)) {
            for start in self.windows.with_events_since(&venue.id, since)? {
                let key = WindowKey::new(venue.id.clone(), start);
                if filter.matches(&key) {
                    keys.push(key);
                }
            }
        }
        let windows = try_join_all(keys.iter().map(|key| self.windows.ask(key, GetState))).await?;
        Ok(windows.into_iter().map(|w| (w.key().clone(), *w)).collect())
    }

    /// The canonical digest of every selected window's state; `qskip replay` prints the
    /// same digest for the same log, so equal digests mean equal state.
    pub async fn state_digest(&self, filter: &WindowFilter) -> Result<String, ServiceError> {
        Ok(state_digest(self.window_states(filter).await?.values()))
    }
}
