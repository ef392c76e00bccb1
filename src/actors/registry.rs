//! Finds the actor of a window, starting it on first use.
//!
//! Windows are never pre-created: an actor starts when a message first needs it and
//! recovers from the window's own events. Actors are spread over one arbiter (thread)
//! per core by a hash of the window key, so hot windows of different venues run in
//! parallel while each window stays single-threaded.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use actix::{Actor, Addr, Arbiter};

use super::{Shared, WindowActor};
use crate::domain::WindowKey;

pub struct Registry {
    shared: Shared,
    arbiters: Vec<Arbiter>,
    live: Mutex<HashMap<WindowKey, Addr<WindowActor>>>,
}

impl Registry {
    /// Starts `arbiter_count` arbiter threads (at least one).
    pub fn new(shared: Shared, arbiter_count: usize) -> Self {
        let arbiters = (0..arbiter_count.max(1)).map(|_| Arbiter::new()).collect();
        Self { shared, arbiters, live: Mutex::new(HashMap::new()) }
    }

    /// The live actor of `key`, or a newly started one; `scheduled_capacity` is used if
    /// the window has no events yet.
    pub fn window(&self, key: &WindowKey, scheduled_capacity: u32) -> Addr<WindowActor> {
        let mut live = self.live.lock().expect("registry lock is never poisoned: no panics under it");
        if let Some(addr) = live.get(key).filter(|addr| addr.connected()) {
            return addr.clone();
        }
        let arbiter = &self.arbiters[self.arbiter_index(key)];
        let (key_for_actor, shared) = (key.clone(), self.shared.clone());
        let addr = WindowActor::start_in_arbiter(&arbiter.handle(), move |_| {
            WindowActor::new(key_for_actor, scheduled_capacity, shared)
        });
        live.insert(key.clone(), addr.clone());
        addr
    }

    /// The live actor of `key`, if one is running.
    pub fn live_window(&self, key: &WindowKey) -> Option<Addr<WindowActor>> {
        let live = self.live.lock().expect("registry lock is never poisoned");
        live.get(key).filter(|addr| addr.connected()).cloned()
    }

    pub fn live_count(&self) -> usize {
        self.live.lock().expect("registry lock is never poisoned").len()
    }

    fn arbiter_index(&self, key: &WindowKey) -> usize {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        (hasher.finish() % self.arbiters.len() as u64) as usize
    }

    /// Stops every arbiter and waits for its thread.
    pub fn shutdown(self) {
        for arbiter in self.arbiters {
            arbiter.stop();
            let _ = arbiter.join();
        }
    }
}
