//! A window actor's outbox to the live hub and the activity log.
//!
//! The actor decides and applies a message before its events are durable (pipelining),
//! but nothing may be shown to anyone before it is durable. So what a change should
//! publish waits here with the journal ticket it depends on, and [`LiveOutbox::release`]
//! publishes, in ticket order, everything whose ticket is durable. Publishing never
//! blocks (see [`super::live_hub`]), so the actor never waits for a subscriber.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::Shared;
use super::activity::Activity;
use crate::domain::{WindowCounts, WindowKey};

enum Pending {
    /// `view`: the earliest hold expiry, for an opened window (whose counts the read
    /// view may serve); `None` for a window with no events (read from its schedule).
    Counts {
        counts: WindowCounts,
        version: u64,
        view: Option<Option<DateTime<Utc>>>,
    },
    Activity(Activity),
}

#[derive(Default)]
pub struct LiveOutbox {
    pending: VecDeque<(u64, Pending)>,
    /// Counts last queued: an unchanged window publishes nothing.
    announced: Option<WindowCounts>,
    /// The hub's version of the latest change (or of the actor's start): orders two
    /// counts of one window, also across a passivated actor and its successor.
    pub version: u64,
    /// A wait for the journal is under way (see `WindowActor::publish_when_durable`).
    waiting: bool,
}

impl LiveOutbox {
    pub fn starting_at(version: u64) -> Self {
        Self { version, ..Self::default() }
    }

    /// Queues the window's counts after `ticket`, if they changed since the last ones;
    /// `view` as in [`Pending::Counts`].
    pub fn counts(&mut self, ticket: u64, counts: WindowCounts, view: Option<Option<DateTime<Utc>>>) {
        if self.announced != Some(counts) {
            self.announced = Some(counts);
            self.pending.push_back((ticket, Pending::Counts { counts, version: self.version, view }));
        }
    }

    pub fn activity(&mut self, ticket: u64, activity: Vec<Activity>) {
        self.pending.extend(activity.into_iter().map(|a| (ticket, Pending::Activity(a))));
    }

    /// True while something waits to be published.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The ticket to wait for before the next release (the newest queued item's: once
    /// it is durable, all are), unless a wait is already under way or nothing waits.
    pub fn start_waiting(&mut self) -> Option<u64> {
        let ticket = self.pending.back().map(|(ticket, _)| *ticket).filter(|_| !self.waiting)?;
        self.waiting = true;
        Some(ticket)
    }

    /// Publishes every queued item whose ticket is durable, oldest first, and ends the
    /// wait under way.
    pub fn release(&mut self, key: &WindowKey, shared: &Shared) {
        self.waiting = false;
        while let Some((ticket, _)) = self.pending.front() {
            if !shared.journal.is_durable(*ticket) {
                break;
            }
            let (_, item) = self.pending.pop_front().expect("the front was just seen");
            match item {
                Pending::Counts { counts, version, view } => {
                    if let Some(next_expiry) = view {
                        shared.view.publish(key, counts, version, next_expiry);
                    }
                    shared.live.publish(key, counts, version);
                }
                Pending::Activity(activity) => shared.activity.record(&key.venue_id, activity),
            }
        }
        if self.pending.is_empty() && self.pending.capacity() > 0 {
            // An idle window (most of the live ones) keeps no queue: one allocation per
            // durable round of a busy window, against a few hundred bytes per window.
            self.pending = VecDeque::new();
        }
    }
}
