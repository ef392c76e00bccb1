//! Per-item retry backoff for the payment workers: an item that failed waits 1 s, then
//! 2, 4, ... up to 5 min before its next try. Items are never dropped.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::limits::{PAYMENT_RETRY_DELAY_FIRST_MS, PAYMENT_RETRY_DELAY_MAX_MS};

const DELAY_FIRST: Duration = Duration::from_millis(PAYMENT_RETRY_DELAY_FIRST_MS);
const DELAY_MAX: Duration = Duration::from_millis(PAYMENT_RETRY_DELAY_MAX_MS);

pub struct Backoff<K> {
    /// Per item: failed attempts so far and when it may be tried again.
    waiting: HashMap<K, (u32, Instant)>,
}

impl<K: Hash + Eq> Default for Backoff<K> {
    fn default() -> Self {
        Self { waiting: HashMap::new() }
    }
}

impl<K: Hash + Eq> Backoff<K> {
    /// True while `item` is waiting out a delay.
    pub fn is_waiting(&self, item: &K) -> bool {
        self.waiting.get(item).is_some_and(|(_, at)| Instant::now() < *at)
    }

    pub fn succeeded(&mut self, item: &K) {
        self.waiting.remove(item);
    }

    /// Records a failure; returns the attempts so far and the delay before the next.
    pub fn failed(&mut self, item: K) -> (u32, Duration) {
        let attempts = self.waiting.get(&item).map_or(1, |(n, _)| n + 1);
        let delay = DELAY_FIRST.saturating_mul(1 << (attempts - 1).min(16)).min(DELAY_MAX);
        self.waiting.insert(item, (attempts, Instant::now() + delay));
        (attempts, delay)
    }
}
