//! The simulated qskip process: what a window actor and start-up do, with the real
//! domain and codecs, on the simulated disk.
//!
//! `execute` is `WindowActor::execute` without actix: load the window from the log if
//! it is not in memory, `decide`, `audit` + `apply`, encode the records and write them;
//! the caller answers once they are flushed. `boot` is start-up: drop a torn tail, load
//! the newest good snapshot through the real snapshot codec, fold the log after it.
//! `snapshot` is the snapshotter: make durable, fold the tail, drop settled windows,
//! encode. Everything in memory is lost when the world crashes the process.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};

use super::disk::Disk;
use crate::domain::{
    Command, Price, PriceHistory, Rejection, ReservationView, Venue, VenueEvent, Window, WindowEvent, WindowKey,
};
use crate::store::snapshot::state::fold_window;
use crate::store::snapshot::{SnapshotState, codec as snapshot_codec, convert};
use crate::store::{Record, codec};

/// What one command did: its answer and the seqs of the records it wrote.
pub struct Executed {
    pub answer: Result<Option<ReservationView>, Rejection>,
    pub seqs: Option<RangeInclusive<u64>>,
}

pub struct Server {
    pub venues: BTreeMap<crate::domain::VenueId, Venue>,
    /// Windows in memory (window actors); others are loaded from the log on demand.
    pub windows: BTreeMap<WindowKey, Window>,
    /// The snapshotter's state, at `last_seq`.
    snapshotter: SnapshotState,
}

/// Decodes records `(from, through]` of `records`, with their seqs.
pub fn decode_range<'a>(records: impl Iterator<Item = &'a Vec<u8>>, from: u64) -> Result<Vec<(u64, Record)>, String> {
    let mut out = Vec::new();
    for (seq, bytes) in (1..).zip(records).skip(from as usize) {
        let (_, record) = codec::decode(bytes).map_err(|e| format!("record {seq} does not decode: {e}"))?;
        out.push((seq, record));
    }
    Ok(out)
}

/// Every window of the log, folded from scratch with audit + apply (the replay tool).
pub fn replay<'a>(records: impl Iterator<Item = &'a Vec<u8>>) -> Result<BTreeMap<WindowKey, Window>, String> {
    let mut events: BTreeMap<WindowKey, Vec<(u64, WindowEvent)>> = BTreeMap::new();
    for (seq, record) in decode_range(records, 0)? {
        if let Record::Window(key, event) = record {
            events.entry(key).or_default().push((seq, event));
        }
    }
    let mut windows = BTreeMap::new();
    for (key, events) in events {
        let window = fold_window(&key, events).map_err(|(seq, why)| format!("replay of {key}: record {seq}: {why}"))?;
        windows.insert(key, window);
    }
    Ok(windows)
}

impl Server {
    /// Start-up on whatever the disk holds; registers `venues` on a fresh log.
    pub fn boot(disk: &mut Disk, venues: &[Venue], now: DateTime<Utc>) -> Result<Self, String> {
        disk.drop_torn_tail();
        let log_end = disk.durable().len() as u64;
        let mut state = latest_good_snapshot(disk, log_end).unwrap_or_else(SnapshotState::empty);
        fold_tail(&mut state, disk, log_end)?;
        state.drop_settled(now);
        let mut server = Self { venues: state.venues.clone(), windows: state.windows.clone(), snapshotter: state };
        let missing: Vec<_> = venues.iter().filter(|v| !server.venues.contains_key(&v.id)).collect();
        if !missing.is_empty() {
            let records =
                missing.iter().map(|v| codec::encode(now, &Record::Venue(VenueEvent::VenueRegistered((*v).clone()))));
            disk.append(records.collect());
            disk.flush();
            server.venues.extend(missing.into_iter().map(|v| (v.id.clone(), v.clone())));
        }
        Ok(server)
    }

    /// Runs one command against its window at `now` and writes its records.
    pub fn execute(
        &mut self,
        disk: &mut Disk,
        key: &WindowKey,
        command: &Command,
        now: DateTime<Utc>,
    ) -> Result<Executed, String> {
        self.load(disk, key)?;
        // The simulation never changes a price: the current one is the whole history.
        let venue = self.venues.get(&key.venue_id).ok_or_else(|| format!("no venue for {key}"))?;
        let prices = PriceHistory::starting(Price::of(venue));
        let window = self.windows.get_mut(key).expect("load put the window in memory");
        let events = match window.decide(command, now) {
            Ok(events) => events,
            Err(rejection) => return Ok(Executed { answer: Err(rejection), seqs: None }),
        };
        for event in &events {
            window.audit(event).map_err(|v| format!("{key}: decide produced an illegal event {event:?}: {v}"))?;
            window.apply(event);
            let committed = window.committed_recorded();
            if matches!(event, WindowEvent::HoldPlaced { .. }) && committed > window.capacity() {
                return Err(format!("{key}: hold granted beyond capacity ({committed} of {})", window.capacity()));
            }
        }
        let view = command
            .reservation_id()
            .and_then(|id| window.reservation(&id))
            .map(|r| ReservationView::of(key, r, &prices, now));
        if events.is_empty() {
            return Ok(Executed { answer: Ok(view), seqs: None });
        }
        let records = events.into_iter().map(|e| codec::encode(now, &Record::Window(key.clone(), e))).collect();
        Ok(Executed { answer: Ok(view), seqs: Some(disk.append(records)) })
    }

    /// Puts a window in memory: from its records if it has any (the actor's recovery),
    /// else unopened with its scheduled capacity.
    fn load(&mut self, disk: &Disk, key: &WindowKey) -> Result<(), String> {
        if self.windows.contains_key(key) {
            return Ok(());
        }
        let events = window_events(disk.written(), key, u64::MAX)?;
        let window = match events.is_empty() {
            true => {
                let venue = self.venues.get(&key.venue_id).ok_or_else(|| format!("no venue for {key}"))?;
                Window::unopened(key.clone(), venue.capacity_at(key.start))
            }
            false => {
                fold_window(key, events).map_err(|(seq, why)| format!("{key} does not load: record {seq}: {why}"))?
            }
        };
        self.windows.insert(key.clone(), window);
        Ok(())
    }

    /// The snapshotter's pass: make the log durable, fold it in, encode the file. The
    /// caller writes the bytes (or crashes first).
    pub fn snapshot(&mut self, disk: &mut Disk, now: DateTime<Utc>) -> Result<(u64, Vec<u8>), String> {
        disk.flush();
        let through = disk.durable().len() as u64;
        fold_tail(&mut self.snapshotter, disk, through)?;
        self.snapshotter.drop_settled(now);
        Ok((through, snapshot_codec::encode(&convert::to_wire(&self.snapshotter))))
    }
}

/// `SnapshotDir::latest_good`: the newest file that decodes and is not ahead of the log.
fn latest_good_snapshot(disk: &Disk, log_end: u64) -> Option<SnapshotState> {
    disk.snapshots().filter(|(seq, _)| *seq <= log_end).find_map(|(seq, bytes)| {
        let state = snapshot_codec::decode(bytes).ok().and_then(|s| convert::from_wire(s).ok())?;
        (state.last_seq == *seq).then_some(state)
    })
}

/// The events of one window with seq `<= through`.
fn window_events<'a>(
    records: impl Iterator<Item = &'a Vec<u8>>,
    key: &WindowKey,
    through: u64,
) -> Result<Vec<(u64, WindowEvent)>, String> {
    let records = decode_range(records, 0)?;
    let of_key = records.into_iter().filter(|(seq, _)| *seq <= through).filter_map(|(seq, record)| match record {
        Record::Window(k, event) if &k == key => Some((seq, event)),
        _ => None,
    });
    Ok(of_key.collect())
}

/// `SnapshotState::fold_tail` over the simulated log. In the simulation every record
/// was written by `decide`, so one that does not fold is a bug, not a corrupt disk.
fn fold_tail(state: &mut SnapshotState, disk: &Disk, through: u64) -> Result<(), String> {
    let tail = decode_range(disk.durable().iter().take(through as usize), state.last_seq)?;
    for (seq, record) in tail {
        match record {
            Record::Venue(event) => drop(state.venues.insert(event.venue().id.clone(), event.venue().clone())),
            Record::Idempotency(_) => {}
            Record::Window(key, event) => match state.windows.get_mut(&key) {
                Some(window) => {
                    window.audit(&event).map_err(|v| format!("fold of record {seq} ({key}): {v}"))?;
                    window.apply(&event);
                }
                None => {
                    let events = window_events(disk.durable().iter(), &key, seq)?;
                    let window =
                        fold_window(&key, events).map_err(|(s, why)| format!("fold of {key}: record {s}: {why}"))?;
                    state.windows.insert(key, window);
                }
            },
        }
    }
    state.last_seq = state.last_seq.max(through);
    Ok(())
}
