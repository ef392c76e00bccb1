//! The pause between retries of a failed etcd step: doubling from
//! `ETCD_RETRY_PAUSE_FIRST_MS` to `ETCD_RETRY_PAUSE_MAX_MS`, reset by a success.

use std::time::Duration;

use crate::limits::{ETCD_RETRY_PAUSE_FIRST_MS, ETCD_RETRY_PAUSE_MAX_MS};

const FIRST: Duration = Duration::from_millis(ETCD_RETRY_PAUSE_FIRST_MS);
const MAX: Duration = Duration::from_millis(ETCD_RETRY_PAUSE_MAX_MS);

#[derive(Debug, Clone)]
pub struct Pause {
    next: Duration,
}

impl Default for Pause {
    fn default() -> Self {
        Self::new()
    }
}

impl Pause {
    pub fn new() -> Self {
        Self { next: FIRST }
    }

    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(MAX);
    }

    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}
