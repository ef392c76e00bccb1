//! The live hub: window counts pushed to stream subscribers (Server-Sent Events).
//!
//! Window actors publish a window's counts here after each change is durable (never
//! before: a pushed number must survive a crash like any other answer). Per venue the
//! hub numbers updates (`seq`), keeps the last [`LIVE_REPLAY_EVENTS`] for subscribers
//! that reconnect with `Last-Event-ID`, and hands each update to every subscriber's
//! bounded queue with `try_send`. Publishing therefore never waits: a subscriber whose
//! queue is full is dropped on the spot (it reconnects and resumes), so a stalled
//! client cannot slow down a window actor. Event ids carry a random per-process
//! `epoch`, so an id from before a restart is recognised as unknown, not misread.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::domain::{VenueId, WindowCounts, WindowKey};
use crate::limits::{LIVE_REPLAY_EVENTS, LIVE_SUBSCRIBER_QUEUE, LIVE_SUBSCRIBERS_MAX};

/// One entry of a venue's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveUpdate {
    /// Position in the venue's feed (1, 2, ...; per process).
    pub seq: u64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A durable change of one window's counts.
    Window {
        key: WindowKey,
        counts: WindowCounts,
        /// From [`LiveHub::next_version`]: of two counts of one window, the higher is newer.
        version: u64,
    },
    /// The venue's schedule changed: windows nobody has touched yet have a new
    /// capacity without any event of their own, so subscribers re-read their range.
    Schedule,
}

/// Where a new subscriber starts.
#[derive(Debug)]
pub enum Start {
    /// The updates after the subscriber's `Last-Event-ID`, all still buffered.
    Replay(Vec<Arc<LiveUpdate>>),
    /// No usable id: send the current state first. Every update up to `seq` is
    /// reflected in any state read after subscribing.
    Snapshot { seq: u64 },
}

/// Why a stream was not opened.
#[derive(Debug, thiserror::Error)]
pub enum HubFull {
    #[error("{LIVE_SUBSCRIBERS_MAX} live streams are open; try again later")]
    Everyone,
    /// One client may not take the streams of everybody else.
    #[error("this client already has {max} live streams open; close one first")]
    ThisClient { max: usize },
}

/// A registered subscriber; dropping it unregisters it (the client went away).
pub struct Subscription {
    pub start: Start,
    pub updates: mpsc::Receiver<Arc<LiveUpdate>>,
    hub: LiveHub,
    venue: VenueId,
    id: u64,
    client: Option<IpAddr>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(&self.venue, self.id, self.client);
    }
}

#[derive(Default)]
struct Feed {
    seq: u64,
    recent: VecDeque<Arc<LiveUpdate>>,
    subscribers: Vec<(u64, mpsc::Sender<Arc<LiveUpdate>>)>,
}

impl Feed {
    /// The buffered updates after `last`, or `None` if some of them are gone (or a
    /// schedule change is among them: then only a fresh read is complete).
    fn since(&self, last: u64) -> Option<Vec<Arc<LiveUpdate>>> {
        let oldest = self.recent.front().map_or(self.seq + 1, |u| u.seq);
        let missed: Vec<_> = self.recent.iter().filter(|u| u.seq > last).cloned().collect();
        let replayable = missed.iter().all(|u| u.change != Change::Schedule);
        (last <= self.seq && oldest <= last + 1 && replayable).then_some(missed)
    }
}

#[derive(Default)]
struct Hub {
    feeds: HashMap<VenueId, Feed>,
    subscribers: usize,
    next_subscriber: u64,
    /// Open streams per client IP, from subscribing until the stream is dropped.
    per_client: HashMap<IpAddr, usize>,
}

/// Cheap to clone: every clone is the same hub.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Mutex<Hub>>,
    epoch: u32,
    /// Source of versions: one increasing counter for the process, so a window's
    /// counts are ordered even across its actors (passivated, revived, or started from
    /// a snapshot), which know nothing of each other's changes.
    versions: Arc<AtomicU64>,
    /// Most streams one client IP may hold (config `[limits] streams_per_ip`).
    per_client_max: Option<usize>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self { inner: Arc::default(), epoch: rand::random(), versions: Arc::default(), per_client_max: None }
    }
}

impl LiveHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Hub> {
        self.inner.lock().expect("live hub lock is never poisoned: no panics under it")
    }

    /// A version higher than every one handed out before (never 0: a window without
    /// an actor is read at version 0).
    pub fn next_version(&self) -> u64 {
        self.versions.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The `id:` of the update numbered `seq` (`<epoch>-<seq>`).
    pub fn event_id(&self, seq: u64) -> String {
        format!("{:08x}-{seq}", self.epoch)
    }

    /// The sequence number in an event id of this process, if it is one.
    fn parse_event_id(&self, id: &str) -> Option<u64> {
        let (epoch, seq) = id.trim().split_once('-')?;
        (u32::from_str_radix(epoch, 16).ok()? == self.epoch).then_some(())?;
        seq.parse().ok()
    }

    /// A hub that lets one client IP hold at most `max` streams (`None`: no cap).
    pub fn with_per_client_max(max: Option<usize>) -> Self {
        Self { per_client_max: max, ..Self::default() }
    }

    /// Registers a subscriber to `venue` for `client`; resumes after `last_event_id`
    /// when possible. Choosing the start and registering happen under one lock, so
    /// nothing published falls between the replay (or snapshot point) and the queue.
    pub fn subscribe(
        &self,
        venue: &VenueId,
        last_event_id: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<Subscription, HubFull> {
        let last = last_event_id.and_then(|id| self.parse_event_id(id));
        let mut hub = self.lock();
        if hub.subscribers >= LIVE_SUBSCRIBERS_MAX {
            return Err(HubFull::Everyone);
        }
        if let (Some(ip), Some(max)) = (client, self.per_client_max) {
            let open = hub.per_client.entry(ip).or_default();
            if *open >= max {
                return Err(HubFull::ThisClient { max });
            }
            *open += 1;
        }
        hub.subscribers += 1;
        hub.next_subscriber += 1;
        let id = hub.next_subscriber;
        let feed = hub.feeds.entry(venue.clone()).or_default();
        let start = match last.and_then(|last| feed.since(last)) {
            Some(missed) => Start::Replay(missed),
            None => Start::Snapshot { seq: feed.seq },
        };
        let (sender, updates) = mpsc::channel(LIVE_SUBSCRIBER_QUEUE);
        feed.subscribers.push((id, sender));
        let client = client.filter(|_| self.per_client_max.is_some());
        Ok(Subscription { start, updates, hub: self.clone(), venue: venue.clone(), id, client })
    }

    fn unsubscribe(&self, venue: &VenueId, id: u64, client: Option<IpAddr>) {
        let mut hub = self.lock();
        if let Some(ip) = client
            && let Some(open) = hub.per_client.get_mut(&ip)
        {
            *open -= 1;
            if *open == 0 {
                hub.per_client.remove(&ip);
            }
        }
        let Some(feed) = hub.feeds.get_mut(venue) else { return };
        let before = feed.subscribers.len();
        feed.subscribers.retain(|(s, _)| *s != id);
        let removed = before - feed.subscribers.len();
        hub.subscribers -= removed;
    }

    /// Records a durable change of a window and offers it to every subscriber.
    pub fn publish(&self, key: &WindowKey, counts: WindowCounts, version: u64) {
        self.offer(&key.venue_id, Change::Window { key: key.clone(), counts, version });
    }

    /// Tells the venue's subscribers that its schedule changed (once it is durable).
    pub fn publish_schedule(&self, venue: &VenueId) {
        self.offer(venue, Change::Schedule);
    }

    /// Appends to the venue's feed and offers the entry to every subscriber without
    /// waiting.
    fn offer(&self, venue: &VenueId, change: Change) {
        let mut hub = self.lock();
        let feed = hub.feeds.entry(venue.clone()).or_default();
        feed.seq += 1;
        let update = Arc::new(LiveUpdate { seq: feed.seq, change });
        if feed.recent.len() == LIVE_REPLAY_EVENTS {
            feed.recent.pop_front();
        }
        feed.recent.push_back(update.clone());
        let before = feed.subscribers.len();
        feed.subscribers.retain(|(id, sender)| match sender.try_send(update.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::info!(%venue, subscriber = id, "dropping a live subscriber that fell behind");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        let dropped = before - feed.subscribers.len();
        hub.subscribers -= dropped;
    }

    /// Open subscriptions to `venue`.
    pub fn subscribers(&self, venue: &VenueId) -> usize {
        self.lock().feeds.get(venue).map_or(0, |feed| feed.subscribers.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn key() -> WindowKey {
        let venue = VenueId::parse("bar").expect("a valid id");
        WindowKey::new(venue, Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).single().expect("valid"))
    }

    fn counts(held: u32) -> WindowCounts {
        WindowCounts { capacity: 10, held, confirmed: 0, available: 10 - held, overcommitted: false, waitlisted: 0 }
    }

    #[test]
    fn resumes_from_the_buffer_or_asks_for_a_snapshot() {
        let hub = LiveHub::default();
        let venue = key().venue_id;
        let first = hub.subscribe(&venue, None, None).expect("room");
        assert!(matches!(first.start, Start::Snapshot { seq: 0 }));
        for held in 1..=3 {
            hub.publish(&key(), counts(held), u64::from(held));
        }
        let resumed = hub.subscribe(&venue, Some(&hub.event_id(1)), None).expect("room");
        let Start::Replay(missed) = &resumed.start else { panic!("id 1 is buffered") };
        assert_eq!(missed.iter().map(|u| u.seq).collect::<Vec<_>>(), [2, 3]);
        let other_epoch = format!("{:08x}-1", hub.epoch.wrapping_add(1));
        assert!(matches!(
            hub.subscribe(&venue, Some(&other_epoch), None).expect("room").start,
            Start::Snapshot { seq: 3 }
        ));
        for held in 4..(4 + LIVE_REPLAY_EVENTS as u32) {
            hub.publish(&key(), counts(held % 10), u64::from(held));
        }
        let too_old = hub.subscribe(&venue, Some(&hub.event_id(1)), None).expect("room");
        assert!(matches!(too_old.start, Start::Snapshot { .. }), "update 2 fell out of the buffer");
        let recent = hub.lock().feeds[&venue].seq;
        assert!(matches!(
            hub.subscribe(&venue, Some(&hub.event_id(recent - 1)), None).expect("room").start,
            Start::Replay(_)
        ));
        hub.publish_schedule(&venue);
        let after_schedule = hub.subscribe(&venue, Some(&hub.event_id(recent - 1)), None).expect("room");
        assert!(matches!(after_schedule.start, Start::Snapshot { .. }), "a schedule change is not replayed");
    }

    #[test]
    fn subscribers_are_bounded_and_a_closed_stream_frees_its_slot() {
        let hub = LiveHub::default();
        let venue = key().venue_id;
        let open: Vec<_> =
            (0..LIVE_SUBSCRIBERS_MAX).map(|_| hub.subscribe(&venue, None, None).expect("room")).collect();
        assert!(hub.subscribe(&venue, None, None).is_err(), "one over the bound is refused");
        drop(open);
        assert_eq!(hub.subscribers(&venue), 0);
        assert!(hub.subscribe(&venue, None, None).is_ok());
    }

    #[test]
    fn one_client_holds_at_most_its_cap_of_streams() {
        let hub = LiveHub::with_per_client_max(Some(2));
        let venue = key().venue_id;
        let (a, b) = ("10.0.0.1".parse().ok(), "10.0.0.2".parse().ok());
        let first = hub.subscribe(&venue, None, a).expect("room");
        let _second = hub.subscribe(&venue, None, a).expect("room");
        assert!(matches!(hub.subscribe(&venue, None, a), Err(HubFull::ThisClient { max: 2 })));
        let _other = hub.subscribe(&venue, None, b).expect("another client has its own cap");
        drop(first);
        let _again = hub.subscribe(&venue, None, a).expect("a closed stream frees its client's slot");
    }

    #[test]
    fn a_full_queue_drops_the_subscriber_and_frees_its_slot() {
        let hub = LiveHub::default();
        let venue = key().venue_id;
        let stalled = hub.subscribe(&venue, None, None).expect("room");
        for n in 0..=LIVE_SUBSCRIBER_QUEUE as u64 {
            hub.publish(&key(), counts(1), n);
        }
        assert_eq!(hub.subscribers(&venue), 0);
        assert_eq!(hub.lock().subscribers, 0);
        drop(stalled);
        assert_eq!(hub.lock().subscribers, 0, "dropping an already removed subscriber frees nothing twice");
    }
}
