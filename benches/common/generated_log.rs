//! A generated event log for the benches: consecutive past windows, each filled by a
//! burst of customers through the domain's own `decide` (holds, confirmations,
//! cancellations, expiries), written straight through `EventLog::write_batch`.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use qskip::domain::{Command, ReservationId, Schedule, Venue, VenueEvent, VenueId, Window, WindowKey};
use qskip::store::{EventLog, Record};

pub const CAPACITY: u32 = 50;
const WRITE_BATCH: usize = 10_000;

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Generates records for consecutive windows, each filled by a burst of customers.
pub struct Generator {
    venue: Venue,
    next_window: i64,
    pub now: DateTime<Utc>,
    next_id: u128,
}

impl Generator {
    pub fn new() -> Self {
        let schedule = Schedule::new(CAPACITY * 4, &[]).expect("valid schedule");
        let id = VenueId::parse("bench").expect("valid venue id");
        let venue = Venue::new(id, "Bench".into(), chrono_tz::UTC, 500, "eur", 1800, schedule).expect("valid venue");
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("valid instant");
        Self { venue, next_window: 0, now, next_id: 1 }
    }

    pub fn venue_record(&self) -> (DateTime<Utc>, Record) {
        (self.now, Record::Venue(VenueEvent::VenueRegistered(self.venue.clone())))
    }

    /// The records of the next window: 60 holds, most confirmed (up to capacity), some
    /// cancelled, the rest expire.
    pub fn next_window(&mut self, out: &mut Vec<(DateTime<Utc>, Record)>) {
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("valid")
            + chrono::Duration::minutes(15 * self.next_window);
        self.next_window += 1;
        let key = WindowKey::new(self.venue.id.clone(), start);
        let mut window = Window::unopened(key.clone(), CAPACITY);
        self.now = self.now.max(start);
        for n in 0..60u32 {
            self.now += chrono::Duration::seconds(7);
            let id = ReservationId::from_bytes(self.next_id.to_le_bytes());
            self.next_id += 1;
            let hold = Command::PlaceHold {
                reservation_id: id,
                quantity: 1,
                hold_ttl: chrono::Duration::minutes(3),
                email: None,
                waitlist_offer_secs: None,
            };
            let mut commands = vec![hold];
            match n % 6 {
                0..=3 => commands.push(Command::Confirm { reservation_id: id, payment_ref: format!("dev:{id}") }),
                4 => commands.push(Command::Cancel { reservation_id: id }),
                _ => {}
            }
            for command in commands {
                if let Ok(events) = window.decide(&command, self.now) {
                    for event in events {
                        window.apply(&event);
                        out.push((self.now, Record::Window(key.clone(), event)));
                    }
                }
            }
        }
        // What the window actor's expiry timer does once the unpaid holds are due.
        let due = self.now + chrono::Duration::minutes(3);
        for event in window.decide(&Command::ExpireDue, due).expect("expiry is always accepted") {
            window.apply(&event);
            out.push((due, Record::Window(key.clone(), event)));
        }
    }
}

/// Appends at least `count` records, in batches, and makes them durable.
pub fn append(log: &EventLog, generator: &mut Generator, count: u64) {
    let mut seq = log.last_seq().expect("last seq") + 1;
    let target = seq + count;
    let mut batch = Vec::with_capacity(WRITE_BATCH + 200);
    if seq == 1 {
        batch.push(generator.venue_record());
    }
    while seq + (batch.len() as u64) < target {
        generator.next_window(&mut batch);
        if batch.len() >= WRITE_BATCH {
            log.write_batch(seq, &batch).expect("write batch");
            seq += batch.len() as u64;
            batch.clear();
        }
    }
    log.write_batch(seq, &batch).expect("write batch");
    log.make_durable(true).expect("durable");
}
