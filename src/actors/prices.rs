//! Every venue's price history, shared by the venues service (which records changes)
//! and the window actors (which price each reservation's view from it), so a
//! reservation's amount is the one its hold was sold at wherever it is shown.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::domain::{Price, PriceHistory, Venue, VenueId};

/// Cheap to clone: every clone is the same book.
#[derive(Clone, Default)]
pub struct PriceBook {
    /// Each history behind an `Arc`: a window actor reads its venue's on every command,
    /// and a reference count is cheaper than copying the history each time.
    by_venue: Arc<RwLock<BTreeMap<VenueId, Arc<PriceHistory>>>>,
}

impl PriceBook {
    /// The whole history of one venue's price, if the venue is known.
    pub fn of(&self, id: &VenueId) -> Option<Arc<PriceHistory>> {
        self.by_venue.read().expect("price book lock is never poisoned").get(id).cloned()
    }

    /// Adds `venue`'s price, in force from `at`, to its history.
    pub fn record(&self, at: DateTime<Utc>, venue: &Venue) {
        let price = Price::of(venue);
        let mut by_venue = self.by_venue.write().expect("price book lock is never poisoned");
        match by_venue.get_mut(&venue.id) {
            Some(history) => Arc::make_mut(history).record(at, price),
            None => drop(by_venue.insert(venue.id.clone(), Arc::new(PriceHistory::starting(price)))),
        }
    }
}
