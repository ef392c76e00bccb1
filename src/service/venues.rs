//! The venues the service sells for: loaded from the log at start, seeded from the
//! config file when the log does not know them yet, changed by operators (admin API).
//! Each venue's price history is kept too, so a payment is checked against the price
//! its hold was sold at.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use super::ServiceError;
use crate::actors::prices::PriceBook;
use crate::clock::Clock;
use crate::domain::{PriceHistory, Venue, VenueEvent, VenueId};
use crate::store::{EventLog, Journal, JournalError, Record, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Shared, read-mostly map of venues. Cheap to clone.
#[derive(Clone, Default)]
pub struct Venues {
    /// Venues are shared, not copied: a request reads its venue several times.
    by_id: Arc<RwLock<BTreeMap<VenueId, Arc<Venue>>>>,
    /// Every price each venue had: a payment is checked against its hold's price.
    /// Shared with the window actors, which price each reservation's view from it.
    prices: PriceBook,
    /// Serialises operator changes (record, serve, reschedule windows), so that the
    /// windows always end up with the schedule of the venue's latest logged form.
    changes: Arc<tokio::sync::Mutex<()>>,
}

/// Held while one operator change is carried out; see [`Venues::lock_changes`].
pub struct ChangeGuard(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

/// What [`Venues::save`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    Changed,
    /// Identical to the logged form: nothing was recorded.
    Unchanged,
}

impl Venues {
    /// Loads venues from the log and registers (durably) every configured venue the log
    /// does not have. A configured venue that differs from the logged one keeps the
    /// logged form: later changes are events, not edits of the file.
    pub async fn load_and_seed(
        log: &EventLog,
        journal: &Journal,
        clock: &dyn Clock,
        configured: &[Venue],
    ) -> Result<Self, SeedError> {
        let mut by_id: BTreeMap<VenueId, Arc<Venue>> = BTreeMap::new();
        let prices = PriceBook::default();
        for (recorded_at, venue) in log.venue_history()? {
            prices.record(recorded_at, &venue);
            by_id.insert(venue.id.clone(), Arc::new(venue));
        }
        let mut records = Vec::new();
        for venue in configured {
            match by_id.get(&venue.id) {
                Some(logged) if **logged != *venue => {
                    tracing::warn!(venue = %venue.id, "config differs from the logged venue; the log wins");
                }
                Some(_) => {}
                None => {
                    let now = clock.now();
                    records.push((now, Record::Venue(VenueEvent::VenueRegistered(venue.clone()))));
                    prices.record(now, venue);
                    by_id.insert(venue.id.clone(), Arc::new(venue.clone()));
                }
            }
        }
        if !records.is_empty() {
            tracing::info!(count = records.len(), "seeding venues from the config");
            journal.append(records).1.await?;
        }
        Ok(Self { by_id: Arc::new(RwLock::new(by_id)), prices, changes: Arc::default() })
    }

    /// Every price the venue had, for checking a payment against its hold's price.
    pub fn prices(&self, id: &VenueId) -> Option<PriceHistory> {
        self.prices.of(id).map(|history| PriceHistory::clone(&history))
    }

    /// The price histories, for the window actors.
    pub fn price_book(&self) -> PriceBook {
        self.prices.clone()
    }

    /// Waits for the right to change venues; hold the guard until the change is done.
    pub async fn lock_changes(&self) -> ChangeGuard {
        ChangeGuard(self.changes.clone().lock_owned().await)
    }

    /// Records `venue` as created or replaced by the operator `by` and, once that is
    /// durable, serves it. The caller holds the [`ChangeGuard`].
    pub async fn save(
        &self,
        _guard: &ChangeGuard,
        journal: &Journal,
        now: DateTime<Utc>,
        venue: Venue,
        by: &str,
    ) -> Result<Saved, JournalError> {
        let saved = match self.get(&venue.id) {
            Some(logged) if *logged == venue => return Ok(Saved::Unchanged),
            Some(_) => Saved::Changed,
            None => Saved::Created,
        };
        let event = VenueEvent::VenueChanged { venue: venue.clone(), by: by.to_owned() };
        journal.append(vec![(now, Record::Venue(event))]).1.await?;
        self.prices.record(now, &venue);
        let mut by_id = self.by_id.write().expect("venues lock is never poisoned");
        by_id.insert(venue.id.clone(), Arc::new(venue));
        Ok(saved)
    }

    /// The venue a request names; `UnknownVenue` for an invalid or unknown id.
    pub fn find(&self, id: &str) -> Result<Arc<Venue>, ServiceError> {
        let unknown = || ServiceError::UnknownVenue(id.to_owned());
        let id = VenueId::parse(id).map_err(|_| unknown())?;
        self.get(&id).ok_or_else(unknown)
    }

    pub fn get(&self, id: &VenueId) -> Option<Arc<Venue>> {
        self.by_id.read().expect("venues lock is never poisoned").get(id).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Venue>> {
        self.by_id.read().expect("venues lock is never poisoned").values().cloned().collect()
    }
}
