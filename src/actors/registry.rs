//! Finds the actor of a window, starting it on first use.
//!
//! Windows are never pre-created: an actor starts when a message first needs it and
//! recovers from the window's own events. Actors are spread over one arbiter (thread)
//! per core by a hash of the window key, so hot windows of different venues run in
//! parallel while each window stays single-threaded. Actors of finished windows stop
//! when idle (see `WindowActor::passivate_if_idle`); the number alive is capped.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use actix::{Actor, Addr, Arbiter};
use chrono::{DateTime, Utc};

use super::{Shared, WindowActor};
use crate::domain::{VenueId, Window, WindowKey};
use crate::limits::ACTORS_LIVE_MAX;

pub struct Registry {
    /// Handed to every actor started: one allocation, not one copy per actor.
    shared: Arc<Shared>,
    /// Emptied by `shutdown`.
    arbiters: Mutex<Vec<Arbiter>>,
    live: Mutex<HashMap<WindowKey, Addr<WindowActor>>>,
}

impl Registry {
    /// Starts `arbiter_count` arbiter threads (at least one).
    pub fn new(shared: Shared, arbiter_count: usize) -> Self {
        let arbiters = (0..arbiter_count.max(1)).map(|_| Arbiter::new()).collect();
        Self { shared: Arc::new(shared), arbiters: Mutex::new(arbiters), live: Mutex::new(HashMap::new()) }
    }

    /// The live actor of `key`, or a newly started one. `None` when `ACTORS_LIVE_MAX`
    /// actors are alive, or after [`Registry::shutdown`].
    ///
    /// A new actor takes the capacity it opens with from `scheduled_capacity`, called
    /// *under the registry lock*: a schedule change updates the venues first and then
    /// lists the live actors under this lock, so every actor either is listed (and
    /// told) or reads the new schedule. A capacity read before the lock could be stale.
    pub fn window(&self, key: &WindowKey, scheduled_capacity: impl FnOnce() -> u32) -> Option<Addr<WindowActor>> {
        let mut live = self.live.lock().expect("registry lock is never poisoned: no panics under it");
        if let Some(addr) = live.get(key).filter(|addr| addr.connected()) {
            return Some(addr.clone());
        }
        if live.len() >= ACTORS_LIVE_MAX {
            // Forget passivated actors before refusing.
            live.retain(|_, addr| addr.connected());
            if live.len() >= ACTORS_LIVE_MAX {
                tracing::warn!(live = live.len(), "live window actor cap reached");
                return None;
            }
        }
        // After `shutdown` (a request racing the stop) there is nowhere to start one:
        // the caller answers 503 as for a full registry, and no thread panics.
        let arbiter = {
            let arbiters = self.arbiters.lock().expect("arbiters lock is never poisoned");
            if arbiters.is_empty() {
                return None;
            }
            arbiters[arbiter_index(key, arbiters.len())].handle()
        };
        let scheduled_capacity = scheduled_capacity();
        let (key_for_actor, shared) = (key.clone(), self.shared.clone());
        let addr = WindowActor::start_in_arbiter(&arbiter, move |_| {
            WindowActor::new(key_for_actor, scheduled_capacity, shared)
        });
        live.insert(key.clone(), addr.clone());
        Some(addr)
    }

    /// Starts the actor of a window whose state was recovered at start-up; `false` when
    /// `ACTORS_LIVE_MAX` actors are alive (it then recovers from its events on demand).
    pub fn start_with_state(&self, window: Window) -> bool {
        let mut live = self.live.lock().expect("registry lock is never poisoned: no panics under it");
        if live.len() >= ACTORS_LIVE_MAX {
            return false;
        }
        let arbiter = {
            let arbiters = self.arbiters.lock().expect("arbiters lock is never poisoned");
            if arbiters.is_empty() {
                return false;
            }
            arbiters[arbiter_index(window.key(), arbiters.len())].handle()
        };
        let (key, shared) = (window.key().clone(), self.shared.clone());
        let addr = WindowActor::start_in_arbiter(&arbiter, move |_| WindowActor::with_state(window, shared));
        live.insert(key, addr);
        true
    }

    /// The live actor of `key`, if one is running.
    pub fn live_window(&self, key: &WindowKey) -> Option<Addr<WindowActor>> {
        let live = self.live.lock().expect("registry lock is never poisoned");
        live.get(key).filter(|addr| addr.connected()).cloned()
    }

    /// Starts of the venue's windows with a live actor, from `since` on. Taken under the
    /// same lock as actor starts (see [`Registry::window`]).
    pub fn live_starts(&self, venue: &VenueId, since: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let live = self.live.lock().expect("registry lock is never poisoned");
        let of_venue =
            live.iter().filter(|(key, addr)| key.venue_id == *venue && key.start >= since && addr.connected());
        of_venue.map(|(key, _)| key.start).collect()
    }

    /// True once [`Registry::shutdown`] has run: no actor can start any more.
    pub fn is_shut_down(&self) -> bool {
        self.arbiters.lock().expect("arbiters lock is never poisoned").is_empty()
    }

    /// Window actors currently running (passivated ones are not counted).
    pub fn live_count(&self) -> usize {
        self.live.lock().expect("registry lock is never poisoned").values().filter(|addr| addr.connected()).count()
    }

    /// Passivation checks completed so far by the window actors (see `Shared`).
    pub fn passivation_checks(&self) -> u64 {
        self.shared.passivation_checks.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops every arbiter (and so every window actor) and waits for its thread.
    pub fn shutdown(&self) {
        self.live.lock().expect("registry lock is never poisoned").clear();
        let arbiters = std::mem::take(&mut *self.arbiters.lock().expect("arbiters lock is never poisoned"));
        for arbiter in arbiters {
            arbiter.stop();
            let _ = arbiter.join();
        }
    }
}

fn arbiter_index(key: &WindowKey, arbiter_count: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % arbiter_count as u64) as usize
}
