//! Generators of domain records, and every record round trips through the codec.

use super::*;

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
        (
            any_rid(),
            "\\PC{0,80}",
            prop::option::of(any::<u64>()),
            prop::option::of("\\PC{0,8}"),
            any_refund_reason(),
            any_time()
        )
            .prop_map(|(reservation_id, payment_intent, amount_minor, currency, reason, owed_at)| {
                WindowEvent::RefundOwed { reservation_id, payment_intent, amount_minor, currency, reason, owed_at }
            }),
        (any_rid(), "\\PC{0,80}", "\\PC{0,80}", any_time()).prop_map(
            |(reservation_id, payment_intent, refund_id, issued_at)| WindowEvent::RefundIssued {
                reservation_id,
                payment_intent,
                refund_id,
                issued_at
            }
        ),
        (
            any_rid(),
            "\\PC{0,80}",
            prop::collection::vec("\\PC{1,40}", 1..4),
            prop::option::of(any::<u64>()),
            any_time()
        )
            .prop_map(|(reservation_id, payment_intent, refund_ids, refunded_minor, settled_at)| {
                WindowEvent::RefundSettled { reservation_id, payment_intent, refund_ids, refunded_minor, settled_at }
            }),
        (any_rid(), "\\PC{0,80}", any::<u32>(), "\\PC{0,200}", any_time()).prop_map(
            |(reservation_id, payment_intent, attempts, error, failed_at)| WindowEvent::RefundFailed {
                reservation_id,
                payment_intent,
                attempts,
                error,
                failed_at
            }
        ),
        (any_rid(), "\\PC{0,80}", any_time(), "\\PC{0,40}").prop_map(
            |(reservation_id, payment_intent, retried_at, by)| WindowEvent::RefundRetried {
                reservation_id,
                payment_intent,
                retried_at,
                by
            }
        ),
        // `closed` is not on the wire: a page is open when it opens, so always false.
        (any_rid(), "\\PC{0,80}", "\\PC{0,200}", any_time(), any_time()).prop_map(
            |(reservation_id, session_id, url, expires_at, opened_at)| WindowEvent::CheckoutOpened {
                reservation_id,
                checkout: Checkout { session_id, url, expires_at, closed: false },
                opened_at
            }
        ),
        (any_rid(), "\\PC{0,80}", any_time()).prop_map(|(reservation_id, session_id, closed_at)| {
            WindowEvent::CheckoutClosed { reservation_id, session_id, closed_at }
        }),
    ]
}

fn any_refund_reason() -> impl Strategy<Value = RefundReason> {
    prop::sample::select(vec![
        RefundReason::SoldOut,
        RefundReason::WindowEnded,
        RefundReason::AlreadyConfirmed,
        RefundReason::AmountMismatch,
    ])
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
            request: ReserveRequest { quantity, window_start, email, waitlist: false },
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

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
