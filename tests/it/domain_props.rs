//! Properties of the pure domain (no I/O): a window never oversells, its state is exactly
//! the fold of the events it emits, refusals change nothing, and every domain record
//! survives the codec. Random command sequences are checked against a small reference
//! model of the decision table; the table itself is also pinned by unit tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc, Weekday};
use proptest::prelude::*;
use qskip::domain::{
    Command, HourOverride, Rejection, ReservationId, ReservationStatus, ReserveRequest, Schedule, Venue, VenueEvent,
    VenueId, Window, WindowEvent, WindowKey,
};
use qskip::store::codec;
use qskip::store::{IdempotencyEntry, IdempotentOutcome, Record};

const HOLD_TTL_MINUTES: i64 = 30;

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("test timestamps are valid RFC 3339")
}

fn key() -> WindowKey {
    WindowKey::new(VenueId::parse("props-bar").unwrap(), at("2026-11-28T21:00:00Z"))
}

fn rid(n: u8) -> ReservationId {
    let mut bytes = [0x5a; 16];
    bytes[15] = n;
    ReservationId::from_bytes(bytes)
}

fn ttl() -> Duration {
    Duration::minutes(HOLD_TTL_MINUTES)
}

fn hold(id: u8, quantity: u32) -> Command {
    Command::PlaceHold { reservation_id: rid(id), quantity, hold_ttl: ttl(), email: None }
}

fn confirm(id: u8, payment_ref: &str) -> Command {
    Command::Confirm { reservation_id: rid(id), payment_ref: payment_ref.to_owned() }
}

fn cancel(id: u8) -> Command {
    Command::Cancel { reservation_id: rid(id) }
}

/// Folds events into a fresh window, checking the replay invariant at each grant.
fn rebuild(capacity: u32, events: &[WindowEvent]) -> Window {
    let mut window = Window::unopened(key(), capacity);
    for event in events {
        window.apply(event);
        if grants_slots(event) {
            assert!(window.committed_recorded() <= window.capacity(), "replay: oversold at {event:?}");
        }
    }
    window
}

/// Events that hand out slots: a new hold, or a confirmation of a hold that had ended.
fn grants_slots(event: &WindowEvent) -> bool {
    matches!(event, WindowEvent::HoldPlaced { .. } | WindowEvent::HoldConfirmed { late: true, .. })
}

// ---------------------------------------------------------------------------------------
// Reference model: the decision table written out independently of `Window`.

#[derive(Debug, Clone)]
struct ModelReservation {
    quantity: u32,
    expires_at: DateTime<Utc>,
    status: ReservationStatus,
    payment_ref: Option<String>,
}

#[derive(Debug, Clone)]
struct Model {
    capacity: u32,
    opened: bool,
    reservations: BTreeMap<ReservationId, ModelReservation>,
}

impl Model {
    fn is_live(r: &ModelReservation, now: DateTime<Utc>) -> bool {
        r.status == ReservationStatus::Held && now < r.expires_at
    }

    fn live_held(&self, now: DateTime<Utc>) -> u32 {
        self.reservations.values().filter(|r| Self::is_live(r, now)).map(|r| r.quantity).sum()
    }

    fn confirmed(&self) -> u32 {
        let confirmed = self.reservations.values().filter(|r| r.status == ReservationStatus::Confirmed);
        confirmed.map(|r| r.quantity).sum()
    }

    fn room(&self, now: DateTime<Utc>) -> u32 {
        self.capacity.saturating_sub(self.live_held(now) + self.confirmed())
    }

    /// What `decide` must answer, and (on success) the events in order.
    fn expect(&self, command: &Command, now: DateTime<Utc>) -> Result<Vec<WindowEvent>, Rejection> {
        let end = key().end();
        let mut due: Vec<_> = self
            .reservations
            .iter()
            .filter(|(_, r)| r.status == ReservationStatus::Held && r.expires_at <= now)
            .map(|(id, r)| (r.expires_at, *id))
            .collect();
        due.sort();
        let mut events: Vec<_> =
            due.into_iter().map(|(_, id)| WindowEvent::HoldExpired { reservation_id: id, expired_at: now }).collect();
        let room = self.room(now);
        match command {
            Command::PlaceHold { reservation_id, quantity, hold_ttl, email } => {
                if now >= end {
                    return Err(Rejection::WindowEnded { end });
                }
                if self.reservations.contains_key(reservation_id) {
                    return Err(Rejection::DuplicateReservation);
                }
                if *quantity > room {
                    return Err(Rejection::SoldOut { available: room });
                }
                if !self.opened {
                    events.push(WindowEvent::WindowOpened { capacity: self.capacity });
                }
                events.push(WindowEvent::HoldPlaced {
                    reservation_id: *reservation_id,
                    quantity: *quantity,
                    placed_at: now,
                    expires_at: now + *hold_ttl,
                    email: email.clone(),
                });
            }
            Command::Confirm { reservation_id, payment_ref } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                let confirmed = |late| WindowEvent::HoldConfirmed {
                    reservation_id: *reservation_id,
                    payment_ref: payment_ref.clone(),
                    confirmed_at: now,
                    late,
                };
                if r.status == ReservationStatus::Confirmed {
                    if r.payment_ref.as_ref() != Some(payment_ref) {
                        return Err(Rejection::AlreadyConfirmed);
                    }
                } else if Self::is_live(r, now) {
                    events.push(confirmed(false));
                } else if now >= end {
                    return Err(Rejection::WindowEnded { end });
                } else if r.quantity > room {
                    return Err(Rejection::SoldOut { available: room });
                } else {
                    events.push(confirmed(true));
                }
            }
            Command::Cancel { reservation_id } => {
                let r = self.reservations.get(reservation_id).ok_or(Rejection::UnknownReservation)?;
                match r.status {
                    _ if Self::is_live(r, now) => {
                        events.push(WindowEvent::HoldCancelled { reservation_id: *reservation_id, cancelled_at: now })
                    }
                    ReservationStatus::Cancelled => {}
                    ReservationStatus::Held => {
                        return Err(Rejection::NotActive { status: ReservationStatus::Expired });
                    }
                    status => return Err(Rejection::NotActive { status }),
                }
            }
            Command::ExpireDue => {}
        }
        Ok(events)
    }

    fn apply(&mut self, event: &WindowEvent) {
        match event {
            WindowEvent::WindowOpened { .. } => self.opened = true,
            WindowEvent::HoldPlaced { reservation_id, quantity, expires_at, .. } => {
                let r = ModelReservation {
                    quantity: *quantity,
                    expires_at: *expires_at,
                    status: ReservationStatus::Held,
                    payment_ref: None,
                };
                self.reservations.insert(*reservation_id, r);
            }
            WindowEvent::HoldConfirmed { reservation_id, payment_ref, .. } => {
                let r = self.reservations.get_mut(reservation_id).unwrap();
                r.status = ReservationStatus::Confirmed;
                r.payment_ref = Some(payment_ref.clone());
            }
            WindowEvent::HoldCancelled { reservation_id, .. } => {
                self.reservations.get_mut(reservation_id).unwrap().status = ReservationStatus::Cancelled;
            }
            WindowEvent::HoldExpired { reservation_id, .. } => {
                self.reservations.get_mut(reservation_id).unwrap().status = ReservationStatus::Expired;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Random command sequences.

/// Ids 0..6 may be held (and collide); 6 and 7 are never held, so confirming or
/// cancelling them is a confirm/cancel of an unknown reservation.
const HOLD_IDS: u8 = 6;
const ALL_IDS: u8 = 8;
const PAYMENT_REFS: [&str; 3] = ["pi_a", "pi_b", "pi_c"];

#[derive(Debug, Clone)]
enum Op {
    Hold { id: u8, quantity: u32, email: bool },
    Confirm { id: u8, payment: usize },
    Cancel { id: u8 },
    ExpireDue,
}

impl Op {
    fn command(&self) -> Command {
        match *self {
            Op::Hold { id, quantity, email } => Command::PlaceHold {
                reservation_id: rid(id),
                quantity,
                hold_ttl: ttl(),
                email: email.then(|| format!("guest{id}@example.com")),
            },
            Op::Confirm { id, payment } => confirm(id, PAYMENT_REFS[payment]),
            Op::Cancel { id } => cancel(id),
            Op::ExpireDue => Command::ExpireDue,
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..HOLD_IDS, 1..=4u32, any::<bool>()).prop_map(|(id, quantity, email)| Op::Hold { id, quantity, email }),
        3 => (0..ALL_IDS, 0..PAYMENT_REFS.len()).prop_map(|(id, payment)| Op::Confirm { id, payment }),
        1 => (0..ALL_IDS).prop_map(|id| Op::Cancel { id }),
        1 => Just(Op::ExpireDue),
    ]
}

/// Time between two commands, 0..=40 minutes: often a few whole minutes (so that many
/// commands fall before the window ends and `now == expires_at` happens), sometimes any
/// number of microseconds.
fn step() -> impl Strategy<Value = Duration> {
    prop_oneof![
        6 => (0..=3i64).prop_map(Duration::minutes),
        1 => (0..=40i64).prop_map(Duration::minutes),
        1 => (0..=40 * 60 * 1_000_000i64).prop_map(Duration::microseconds),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_window_never_oversells_and_is_the_fold_of_its_events(
        capacity in 0..=12u32,
        lead_minutes in 0..=150i64,
        script in prop::collection::vec((step(), op()), 1..60),
    ) {
        let mut window = Window::unopened(key(), capacity);
        let mut model = Model { capacity, opened: false, reservations: BTreeMap::new() };
        let mut log: Vec<WindowEvent> = Vec::new();
        let mut now = key().start - Duration::minutes(lead_minutes);

        for (delta, op) in script {
            now += delta;

            // Expired holds free their slots at once, before any HoldExpired is written.
            let counts = window.counts_at(now);
            let live: u32 = window.reservations().filter(|r| r.is_live_hold(now)).map(|r| r.quantity).sum();
            let live_by_hand: u32 = window
                .reservations()
                .filter(|r| r.status == ReservationStatus::Held && now < r.expires_at)
                .map(|r| r.quantity)
                .sum();
            prop_assert_eq!(counts.held, live);
            prop_assert_eq!(counts.held, live_by_hand);
            prop_assert_eq!(counts.held, model.live_held(now));
            prop_assert_eq!(counts.confirmed, model.confirmed());
            prop_assert!(counts.held + counts.confirmed <= capacity, "counts oversold: {counts:?}");
            prop_assert_eq!(counts.available, capacity - counts.held - counts.confirmed);

            let command = op.command();
            let before = window.clone();
            let expected = model.expect(&command, now);
            let decided = window.decide(&command, now);
            prop_assert_eq!(&decided, &expected, "{:?} at {}", command, now);

            match decided {
                Err(_) => {
                    // A refusal emits nothing; nothing is applied, so nothing changes.
                    prop_assert_eq!(&window, &before);
                }
                Ok(events) => {
                    for event in &events {
                        window.apply(event);
                        model.apply(event);
                        log.push(event.clone());
                        if grants_slots(event) {
                            prop_assert!(
                                window.committed_recorded() <= capacity,
                                "oversold by {event:?}: committed {} > capacity {capacity}",
                                window.committed_recorded()
                            );
                        }
                    }
                    // The same payment delivered again confirms nothing and changes
                    // nothing about that reservation (due expiries of others may be written).
                    if let Command::Confirm { reservation_id, payment_ref } = &command {
                        let prior = before.reservation(reservation_id).unwrap();
                        if prior.status == ReservationStatus::Confirmed {
                            prop_assert_eq!(prior.payment_ref.as_ref(), Some(payment_ref));
                            let only_expiries = events.iter().all(|e| matches!(e, WindowEvent::HoldExpired { .. }));
                            prop_assert!(only_expiries, "duplicate payment emitted {:?}", events);
                            prop_assert_eq!(window.reservation(reservation_id), Some(prior));
                        }
                    }
                    // After any decision, no hold past its expiry is still recorded as held.
                    prop_assert!(window.reservations().all(|r| r.status != ReservationStatus::Held || now < r.expires_at));
                    prop_assert!(window.earliest_expiry().is_none_or(|e| e > now));
                }
            }

            let counts = window.counts_at(now);
            prop_assert!(counts.held + counts.confirmed <= capacity, "counts oversold: {counts:?}");
            for (id, r) in &model.reservations {
                prop_assert_eq!(window.reservation(id).map(|w| w.status), Some(r.status));
            }
            prop_assert_eq!(&rebuild(capacity, &log), &window, "rebuilt window differs from the live one");
        }
    }

    #[test]
    fn every_domain_record_round_trips_through_the_codec(
        recorded_at in any_time(),
        record in any_record(),
    ) {
        let bytes = codec::encode(recorded_at, &record);
        prop_assert_eq!(codec::decode(&bytes), Ok((recorded_at, record)));
        let wire = codec::decode_stored(&bytes).unwrap();
        prop_assert_eq!(codec::encode_stored(&wire), bytes);
    }
}

// ---------------------------------------------------------------------------------------
// Generators of domain records.

/// 1900-01-01 .. 2200-01-01, in microseconds: negative times (zigzag) included.
fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    (-2_208_988_800_000_000i64..7_258_118_400_000_000).prop_map(|us| DateTime::from_timestamp_micros(us).unwrap())
}

fn any_window_start() -> impl Strategy<Value = DateTime<Utc>> {
    (-2_454_432i64..8_064_576).prop_map(|n| DateTime::from_timestamp(n * 900, 0).unwrap())
}

fn any_venue_id() -> impl Strategy<Value = VenueId> {
    "[a-z0-9_-]{1,64}".prop_map(|s| VenueId::parse(&s).unwrap())
}

fn any_key() -> impl Strategy<Value = WindowKey> {
    (any_venue_id(), any_window_start()).prop_map(|(v, s)| WindowKey::new(v, s))
}

fn any_rid() -> impl Strategy<Value = ReservationId> {
    any::<[u8; 16]>().prop_map(ReservationId::from_bytes)
}

fn any_email() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z0-9.+]{1,40}@[a-zé0-9.-]{1,60}")
}

fn any_weekday() -> impl Strategy<Value = Weekday> {
    (0..7u8).prop_map(|n| Weekday::try_from(n).unwrap())
}

fn any_venue() -> impl Strategy<Value = Venue> {
    let zones = prop::sample::select(vec![
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Asia::Kathmandu,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::UTC,
    ]);
    let overrides = prop::collection::vec(
        (any_weekday(), 0..=23u8, 0..=100_000u32).prop_map(|(weekday, hour, slots_per_hour)| HourOverride {
            weekday,
            hour,
            slots_per_hour,
        }),
        0..12,
    );
    (
        any_venue_id(),
        "\\PC{1,50}",
        zones,
        0..=qskip::limits::PRICE_MINOR_MAX,
        "[a-zA-Z]{3}",
        1..=86_400u32,
        0..=100_000u32,
        overrides,
    )
        .prop_map(|(id, name, tz, price, currency, ttl, default, overrides)| {
            let schedule = Schedule::new(default, &overrides).unwrap();
            Venue::new(id, name, tz, price, &currency, ttl, schedule).unwrap()
        })
}

fn any_window_event() -> impl Strategy<Value = WindowEvent> {
    prop_oneof![
        any::<u32>().prop_map(|capacity| WindowEvent::WindowOpened { capacity }),
        (any_rid(), any::<u32>(), any_time(), any_time(), any_email()).prop_map(
            |(reservation_id, quantity, placed_at, expires_at, email)| WindowEvent::HoldPlaced {
                reservation_id,
                quantity,
                placed_at,
                expires_at,
                email
            }
        ),
        (any_rid(), "\\PC{0,80}", any_time(), any::<bool>()).prop_map(
            |(reservation_id, payment_ref, confirmed_at, late)| WindowEvent::HoldConfirmed {
                reservation_id,
                payment_ref,
                confirmed_at,
                late
            }
        ),
        (any_rid(), any_time())
            .prop_map(|(reservation_id, cancelled_at)| WindowEvent::HoldCancelled { reservation_id, cancelled_at }),
        (any_rid(), any_time())
            .prop_map(|(reservation_id, expired_at)| WindowEvent::HoldExpired { reservation_id, expired_at }),
    ]
}

fn any_idempotency() -> impl Strategy<Value = IdempotencyEntry> {
    let outcome = prop_oneof![
        (any_key(), any_rid())
            .prop_map(|(window, reservation_id)| IdempotentOutcome::Reserved { window, reservation_id }),
        any::<u32>().prop_map(|available| IdempotentOutcome::SoldOut { available }),
    ];
    ("[ -~]{1,255}", any_venue_id(), prop::option::of(any::<u32>()), prop::option::of(any_time()), any_email(), outcome)
        .prop_map(|(key, venue_id, quantity, window_start, email, outcome)| IdempotencyEntry {
            key,
            venue_id,
            request: ReserveRequest { quantity, window_start, email },
            outcome,
        })
}

fn any_record() -> impl Strategy<Value = Record> {
    prop_oneof![
        any_venue().prop_map(|v| Record::Venue(VenueEvent::VenueRegistered(v))),
        (any_key(), any_window_event()).prop_map(|(k, e)| Record::Window(k, e)),
        any_idempotency().prop_map(Record::Idempotency),
    ]
}

// ---------------------------------------------------------------------------------------
// The decision table, case by case.

/// A window of `capacity` with the given holds, placed 20 minutes before it starts (so
/// they expire 10 minutes into it).
fn window_with(capacity: u32, holds: &[(u8, u32)]) -> (Window, DateTime<Utc>) {
    let placed = key().start - Duration::minutes(20);
    let mut w = Window::unopened(key(), capacity);
    for &(id, quantity) in holds {
        run(&mut w, &hold(id, quantity), placed);
    }
    (w, placed)
}

fn run(w: &mut Window, command: &Command, now: DateTime<Utc>) -> Vec<WindowEvent> {
    let events = w.decide(command, now).unwrap_or_else(|r| panic!("{command:?} refused: {r}"));
    for e in &events {
        w.apply(e);
    }
    events
}

#[test]
fn confirming_a_live_hold_is_not_late() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + Duration::minutes(5);
    let events = run(&mut w, &confirm(1, "pi_1"), now);
    assert_eq!(
        events,
        [WindowEvent::HoldConfirmed {
            reservation_id: rid(1),
            payment_ref: "pi_1".into(),
            confirmed_at: now,
            late: false
        }]
    );
    assert_eq!(w.counts_at(now).confirmed, 2);
    assert_eq!(w.counts_at(now).held, 0);
}

#[test]
fn confirming_after_expiry_with_room_is_late() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let now = placed + ttl() + Duration::seconds(1);
    let events = run(&mut w, &confirm(1, "pi_1"), now);
    assert_eq!(
        events,
        [
            WindowEvent::HoldExpired { reservation_id: rid(1), expired_at: now },
            WindowEvent::HoldConfirmed {
                reservation_id: rid(1),
                payment_ref: "pi_1".into(),
                confirmed_at: now,
                late: true
            },
        ]
    );
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Confirmed);
    assert_eq!(w.counts_at(now).confirmed, 2);
}

#[test]
fn the_moment_of_expiry_already_counts_as_expired() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    let expiry = placed + ttl();
    assert_eq!(w.counts_at(expiry - Duration::microseconds(1)).held, 2);
    assert_eq!(w.counts_at(expiry).held, 0);
    assert_eq!(w.counts_at(expiry).available, 4);
    let events = w.decide(&confirm(1, "pi_1"), expiry).unwrap();
    assert!(matches!(events.last(), Some(WindowEvent::HoldConfirmed { late: true, .. })));
}

#[test]
fn confirming_after_expiry_without_room_is_sold_out() {
    let (mut w, placed) = window_with(3, &[(1, 2)]);
    let later = placed + ttl() + Duration::seconds(1);
    run(&mut w, &hold(2, 2), later); // takes the slots the expired hold freed
    let now = later + Duration::seconds(1);
    assert_eq!(w.decide(&confirm(1, "pi_1"), now), Err(Rejection::SoldOut { available: 1 }));
}

#[test]
fn confirming_an_expired_hold_after_the_window_ended_is_refused() {
    let (w, _) = window_with(3, &[(1, 2)]);
    let now = key().end() + Duration::minutes(10);
    assert_eq!(w.decide(&confirm(1, "pi_1"), now), Err(Rejection::WindowEnded { end: key().end() }));
}

#[test]
fn a_live_hold_can_be_paid_after_the_window_started_or_ended() {
    let placed = key().end() - Duration::minutes(1);
    let mut w = Window::unopened(key(), 3);
    run(&mut w, &hold(1, 1), placed);
    let events = run(&mut w, &confirm(1, "pi_1"), key().end() + Duration::minutes(5));
    assert!(matches!(events[..], [WindowEvent::HoldConfirmed { late: false, .. }]));
}

#[test]
fn the_same_payment_twice_emits_nothing() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &confirm(1, "pi_1"), placed + Duration::minutes(1));
    let before = w.clone();
    assert_eq!(w.decide(&confirm(1, "pi_1"), placed + Duration::minutes(2)), Ok(vec![]));
    // Even long after every expiry and the end of the window.
    assert_eq!(w.decide(&confirm(1, "pi_1"), key().end() + Duration::days(3)), Ok(vec![]));
    assert_eq!(w, before);
}

#[test]
fn another_payment_after_confirmation_is_already_confirmed() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &confirm(1, "pi_1"), placed + Duration::minutes(1));
    assert_eq!(w.decide(&confirm(1, "pi_2"), placed + Duration::minutes(2)), Err(Rejection::AlreadyConfirmed));
}

#[test]
fn confirming_an_unknown_reservation_is_refused() {
    let (w, placed) = window_with(4, &[(1, 2)]);
    assert_eq!(w.decide(&confirm(9, "pi_1"), placed), Err(Rejection::UnknownReservation));
    assert_eq!(w.decide(&cancel(9), placed), Err(Rejection::UnknownReservation));
}

#[test]
fn cancelling_an_expired_hold_is_not_active() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    let after = placed + ttl();
    // Before HoldExpired is written ...
    assert_eq!(w.decide(&cancel(1), after), Err(Rejection::NotActive { status: ReservationStatus::Expired }));
    // ... and after.
    run(&mut w, &Command::ExpireDue, after);
    assert_eq!(w.reservation(&rid(1)).unwrap().status, ReservationStatus::Expired);
    assert_eq!(w.decide(&cancel(1), after), Err(Rejection::NotActive { status: ReservationStatus::Expired }));
}

#[test]
fn cancelling_frees_the_slots_and_is_idempotent() {
    let (mut w, placed) = window_with(2, &[(1, 2)]);
    let now = placed + Duration::minutes(1);
    assert_eq!(w.decide(&hold(2, 1), now), Err(Rejection::SoldOut { available: 0 }));
    run(&mut w, &cancel(1), now);
    assert_eq!(w.counts_at(now).available, 2);
    assert_eq!(w.decide(&cancel(1), now), Ok(vec![]));
    run(&mut w, &hold(2, 2), now);
}

#[test]
fn cancelling_a_confirmed_reservation_is_not_active() {
    let (mut w, placed) = window_with(4, &[(1, 2)]);
    run(&mut w, &confirm(1, "pi_1"), placed);
    assert_eq!(w.decide(&cancel(1), placed), Err(Rejection::NotActive { status: ReservationStatus::Confirmed }));
}

#[test]
fn a_hold_beyond_capacity_is_sold_out_with_what_is_left() {
    let (w, placed) = window_with(5, &[(1, 2)]);
    assert_eq!(w.decide(&hold(2, 4), placed), Err(Rejection::SoldOut { available: 3 }));
    assert!(w.decide(&hold(2, 3), placed).is_ok());
    let empty = Window::unopened(key(), 0);
    assert_eq!(empty.decide(&hold(1, 1), placed), Err(Rejection::SoldOut { available: 0 }));
}

#[test]
fn a_hold_after_the_window_ended_is_refused() {
    let w = Window::unopened(key(), 5);
    let end = key().end();
    assert_eq!(w.decide(&hold(1, 1), end), Err(Rejection::WindowEnded { end }));
    assert!(w.decide(&hold(1, 1), end - Duration::microseconds(1)).is_ok());
}

#[test]
fn a_hold_reusing_an_id_is_a_duplicate_even_after_it_expired() {
    let (w, placed) = window_with(5, &[(1, 1)]);
    assert_eq!(w.decide(&hold(1, 1), placed), Err(Rejection::DuplicateReservation));
    assert_eq!(w.decide(&hold(1, 1), placed + ttl() + Duration::seconds(1)), Err(Rejection::DuplicateReservation));
}

#[test]
fn a_hold_quantity_out_of_bounds_is_refused() {
    let w = Window::unopened(key(), 1000);
    let now = key().start;
    assert!(matches!(w.decide(&hold(1, 0), now), Err(Rejection::InvalidQuantity { got: 0, .. })));
    let max = qskip::limits::RESERVATION_QUANTITY_MAX;
    assert!(matches!(w.decide(&hold(1, max + 1), now), Err(Rejection::InvalidQuantity { .. })));
    assert!(w.decide(&hold(1, max), now).is_ok());
}

#[test]
fn the_first_hold_opens_the_window_with_its_capacity() {
    let mut w = Window::unopened(key(), 7);
    let now = key().start;
    let events = run(&mut w, &hold(1, 1), now);
    assert_eq!(events[0], WindowEvent::WindowOpened { capacity: 7 });
    assert!(w.is_opened());
    let events = run(&mut w, &hold(2, 1), now);
    assert!(matches!(events[..], [WindowEvent::HoldPlaced { .. }]));
}

#[test]
fn every_decision_first_expires_due_holds_in_expiry_order() {
    let mut w = Window::unopened(key(), 10);
    let t0 = key().start - Duration::hours(2);
    run(&mut w, &hold(3, 1), t0);
    run(&mut w, &hold(1, 1), t0 + Duration::minutes(1));
    run(&mut w, &hold(2, 1), t0 + Duration::minutes(2));
    let now = t0 + Duration::hours(1);
    let events = w.decide(&Command::ExpireDue, now).unwrap();
    let expired: Vec<_> = events
        .iter()
        .map(|e| match e {
            WindowEvent::HoldExpired { reservation_id, expired_at } if *expired_at == now => *reservation_id,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(expired, [rid(3), rid(1), rid(2)]);
    // A refused command carries none of them: the refusal is the whole answer.
    assert_eq!(w.decide(&confirm(9, "pi"), now), Err(Rejection::UnknownReservation));
}
