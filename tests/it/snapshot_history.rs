//! A seeded generator of random but legal histories, written to a real log: every event
//! comes from `Window::decide`, as in the service, over several windows of one venue,
//! with holds, confirmations, cancellations, expiries, late and mismatched payments,
//! refunds and checkout pages.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use qskip::domain::{
    Checkout, Command, Payment, Price, PriceHistory, ReservationId, Schedule, Venue, VenueEvent, VenueId, Window,
    WindowKey,
};
use qskip::store::{EventLog, Journal, JournalOptions, Record};

/// 2026-11-28T12:00:00Z, a window start.
pub fn t0() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().expect("valid instant")
}

/// splitmix64: tiny, seedable, good enough to pick commands.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn venue() -> Venue {
    let schedule = Schedule::new(16, &[]).expect("valid schedule");
    let id = VenueId::parse("bar").expect("valid id");
    Venue::new(id, "Bar".into(), chrono_tz::UTC, 500, "eur", 600, schedule).expect("valid venue")
}

/// A random legal history of `steps` commands: (commit time, record) in commit order.
pub fn history(seed: u64, steps: usize) -> Vec<(DateTime<Utc>, Record)> {
    let mut rng = Rng::new(seed);
    let venue = venue();
    let mut now = t0();
    let mut records = vec![(now, Record::Venue(VenueEvent::VenueRegistered(venue.clone())))];
    let keys: Vec<WindowKey> =
        (0..4).map(|n| WindowKey::new(venue.id.clone(), t0() + Duration::minutes(15 * n))).collect();
    let mut windows: BTreeMap<WindowKey, Window> =
        keys.iter().map(|k| (k.clone(), Window::unopened(k.clone(), venue.capacity_at(k.start)))).collect();
    for step in 0..steps {
        now += Duration::seconds(rng.below(40) as i64);
        let key = &keys[rng.below(keys.len() as u64) as usize];
        let window = windows.get_mut(key).expect("every key has a window");
        let command = command(&mut rng, window, step);
        if let Ok(events) = window.decide(&command, now) {
            for event in events {
                window.apply(&event);
                records.push((now, Record::Window(key.clone(), event)));
            }
        }
    }
    records
}

fn command(rng: &mut Rng, window: &Window, step: usize) -> Command {
    let ids: Vec<ReservationId> = window.reservations().map(|r| r.id).collect();
    let Some(&id) = (!ids.is_empty()).then(|| &ids[rng.below(ids.len() as u64) as usize]) else {
        return place(rng);
    };
    let price = Price { unit_minor: 500, currency: "eur".into() };
    match rng.below(10) {
        0..=2 => place(rng),
        3 => Command::Confirm { reservation_id: id, payment_ref: format!("dev:{step}") },
        4 => Command::Cancel { reservation_id: id },
        5 => {
            // Sometimes the wrong amount, sometimes late: refunds owed.
            let amount = if rng.below(4) == 0 { Some(1) } else { None };
            let payment = Payment { intent: format!("pi_{step}"), amount_minor: amount, currency: None };
            Command::RecordPayment { reservation_id: id, payment, prices: PriceHistory::starting(price.clone()) }
        }
        6 => {
            let owed = window.reservation(&id).and_then(|r| r.refunds.iter().find(|f| f.refund_id.is_none()));
            match owed {
                Some(f) => Command::RecordRefund {
                    reservation_id: id,
                    payment_intent: f.payment_intent.clone(),
                    refund_ids: vec![format!("re_{step}")],
                    refunded_minor: None,
                },
                None => Command::ExpireDue,
            }
        }
        7 => {
            let checkout = Checkout {
                session_id: format!("cs_{id}"),
                url: format!("https://pay.example/{id}"),
                expires_at: window.key().start + Duration::hours(1),
                closed: false,
            };
            Command::OpenCheckout { reservation_id: id, checkout }
        }
        8 => Command::CloseCheckout { reservation_id: id, session_id: format!("cs_{id}") },
        _ => Command::ExpireDue,
    }
}

fn place(rng: &mut Rng) -> Command {
    let reservation_id = ReservationId::from_bytes(rng.next().to_le_bytes().repeat(2).try_into().expect("16 bytes"));
    Command::PlaceHold {
        reservation_id,
        quantity: 1 + rng.below(3) as u32,
        hold_ttl: Duration::minutes(10),
        email: None,
        waitlist_offer_secs: None,
    }
}

/// Writes `records` durably into the log in `dir` in submissions of a few records each
/// (as actors do), then closes it.
/// Writes `records` through a journal and returns the log handle. The caller reads
/// through it rather than reopening: sled releases its file lock only once its own
/// background flusher has wound down, so an immediate reopen in the same process can
/// fail on a loaded machine.
pub fn write_log(dir: &Path, records: &[(DateTime<Utc>, Record)]) -> EventLog {
    let log = EventLog::open(dir).expect("open log");
    let journal = Journal::start(log.clone(), JournalOptions::default(), Box::new(|_| {})).expect("start journal");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    for chunk in records.chunks(7) {
        let (_, durable) = journal.append(chunk.to_vec());
        runtime.block_on(durable).expect("durable");
    }
    journal.shutdown();
    log
}

#[test]
fn histories_exercise_every_kind_of_event() {
    let mut kinds = std::collections::BTreeSet::new();
    for seed in [1, 2, 3] {
        for (_, record) in history(seed, 400) {
            if let Record::Window(_, event) = record {
                kinds.insert(format!("{event:?}").split([' ', '{']).next().unwrap_or_default().to_owned());
            }
        }
    }
    let expected = [
        "CheckoutClosed",
        "CheckoutOpened",
        "HoldCancelled",
        "HoldConfirmed",
        "HoldExpired",
        "HoldPlaced",
        "RefundOwed",
        "RefundSettled",
        "WindowOpened",
    ];
    assert_eq!(kinds.iter().map(String::as_str).collect::<Vec<_>>(), expected);
}
