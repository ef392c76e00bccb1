//! A window actor's outbox to the live hub and the activity log.
//!
//! The actor decides and applies a message before its events are durable (pipelining),
//! but nothing may be shown to anyone before it is durable. So what a change should
//! publish waits here with the journal ticket it depends on, and [`LiveOutbox::release`]
//! publishes, in ticket order, everything whose ticket is durable. Publishing never
//! blocks (see [`super::live`]), so the actor never waits for a subscriber.

use std::collections::VecDeque;

use super::Shared;
use super::activity::Activity;
use crate::domain::{WindowCounts, WindowKey};

enum Pending {
    Counts { counts: WindowCounts, version: u64 },
    Activity(Activity),
}

#[derive(Default)]
pub struct LiveOutbox {
    pending: VecDeque<(u64, Pending)>,
    /// Counts last queued: an unchanged window publishes nothing.
    announced: Option<WindowCounts>,
    /// Window events applied so far (recovered and new): orders a window's counts.
    pub version: u64,
}

impl LiveOutbox {
    /// Queues the window's counts after `ticket`, if they changed since the last ones.
    pub fn counts(&mut self, ticket: u64, counts: WindowCounts) {
        if self.announced != Some(counts) {
            self.announced = Some(counts);
            self.pending.push_back((ticket, Pending::Counts { counts, version: self.version }));
        }
    }

    pub fn activity(&mut self, ticket: u64, activity: Vec<Activity>) {
        self.pending.extend(activity.into_iter().map(|a| (ticket, Pending::Activity(a))));
    }

    /// The ticket the newest queued item waits for, if any: once it is durable, all are.
    pub fn waiting_for(&self) -> Option<u64> {
        self.pending.back().map(|(ticket, _)| *ticket)
    }

    /// Publishes every queued item whose ticket is durable, oldest first.
    pub fn release(&mut self, key: &WindowKey, shared: &Shared) {
        while let Some((ticket, _)) = self.pending.front() {
            if !shared.journal.is_durable(*ticket) {
                break;
            }
            let (_, item) = self.pending.pop_front().expect("the front was just seen");
            match item {
                Pending::Counts { counts, version } => shared.live.publish(key, counts, version),
                Pending::Activity(activity) => shared.activity.record(&key.venue_id, activity),
            }
        }
    }
}
