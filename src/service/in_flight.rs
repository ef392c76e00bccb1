//! Idempotency keys with a request in flight. While one request holds a key, a second
//! request with the same key (at the same venue: keys are scoped by venue) is refused
//! with `409 idempotency_in_progress` instead of racing it; once the first is done, a
//! retry finds its recorded answer.
//!
//! Reservations hold a key until the hold's answer is durable; the Stripe checkout holds it
//! (in its own set) until the checkout page is open or the hold is released again, so a
//! retry never sees the hold in between.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::ServiceError;
use crate::domain::VenueId;

/// A set of claimed keys; clones share it.
#[derive(Debug, Clone, Default)]
pub struct KeysInFlight(Arc<Mutex<HashSet<String>>>);

/// A key claimed by one request; released on drop.
#[derive(Debug)]
pub struct InFlight {
    keys: KeysInFlight,
    scoped: String,
}

impl KeysInFlight {
    /// Claims `key` at `venue`, or answers `IdempotencyInProgress` if it is claimed.
    pub fn claim(&self, venue: &VenueId, key: &str) -> Result<InFlight, ServiceError> {
        // Venue ids never contain '/', so the scoped form is unambiguous.
        let scoped = format!("{venue}/{key}");
        let fresh = self.0.lock().expect("in-flight lock is never poisoned: no panics under it").insert(scoped.clone());
        fresh.then(|| InFlight { keys: self.clone(), scoped }).ok_or(ServiceError::IdempotencyInProgress)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.keys.0.lock().expect("in-flight lock is never poisoned").remove(&self.scoped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_claimed_once_per_venue_until_released() {
        let keys = KeysInFlight::default();
        let (bar, club) = (VenueId::parse("bar").expect("valid"), VenueId::parse("club").expect("valid"));
        let first = keys.claim(&bar, "order-17").expect("free");
        assert!(matches!(keys.claim(&bar, "order-17"), Err(ServiceError::IdempotencyInProgress)));
        let _other_venue = keys.claim(&club, "order-17").expect("another venue's key is another key");
        drop(first);
        keys.claim(&bar, "order-17").expect("free again");
    }
}
