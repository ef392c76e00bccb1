//! Which windows a report or a digest covers: a venue and a time range, both optional.
//!
//! Pure and shared by the replay tool and the running service, so that both compute a
//! state digest over exactly the same windows.

use chrono::{DateTime, Utc};

use super::{VenueId, WindowKey};

#[derive(Debug, Clone, Default)]
pub struct WindowFilter {
    pub venue: Option<VenueId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl WindowFilter {
    /// True when the window belongs to the venue and overlaps `[from, to)`.
    pub fn matches(&self, key: &WindowKey) -> bool {
        self.venue.as_ref().is_none_or(|v| *v == key.venue_id)
            && self.from.is_none_or(|from| key.end() > from)
            && self.to.is_none_or(|to| key.start < to)
    }
}
