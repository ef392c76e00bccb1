//! Golden bytes of every stored record shape (`events/v1/*.bin`, catalogue in
//! `events/README.md`).
//!
//! For every fixture file: today's code decodes it to the value written out below, the
//! wire value re-encodes byte-identically, and the domain value it converts to is the one
//! expected. A file without an expectation fails, and so does an expectation without a
//! file. Corruption (flipped bits, truncation, trailing bytes) is rejected.
//!
//! Blessing: `QSKIP_BLESS_FIXTURES=1 cargo test --test it event_fixtures` writes the
//! fixtures that do not exist yet. It never overwrites one: an existing fixture whose
//! bytes differ from today's encoding fails the run, because old versions are frozen.
//! Without the variable nothing is ever written.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc, Weekday};
use qskip::domain::{
    Checkout, HourOverride, RefundReason, ReservationId, ReserveRequest, Schedule, Venue, VenueEvent, VenueId,
    WindowEvent, WindowKey,
};
use qskip::store::codec::{self, DecodeError};
use qskip::store::frame::FrameError;
use qskip::store::keys;
use qskip::store::wire::{
    BodyV1, HourOverrideV1, IdempotencyV1, IdempotentOutcomeV1, RecordV1, RefundReasonV1, StoredRecord, VenueEventV1,
    VenueV1, WindowEventV1, WindowKeyV1,
};
use qskip::store::{IdempotencyEntry, IdempotentOutcome, Record};

const BLESS_ENV: &str = "QSKIP_BLESS_FIXTURES";

// ---------------------------------------------------------------------------------------
// Fixed values. Times are microseconds since the Unix epoch (UTC); the comment is the
// instant, checked by `literal_times_are_the_instants_they_claim`.

/// 6f1c2b0e-4a8d-4c3e-9b7a-1d2e3f405162 (v4).
const RID_A: [u8; 16] =
    [0x6f, 0x1c, 0x2b, 0x0e, 0x4a, 0x8d, 0x4c, 0x3e, 0x9b, 0x7a, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x62];
/// c0ffee00-1234-4abc-8def-0123456789ab (v4).
const RID_B: [u8; 16] =
    [0xc0, 0xff, 0xee, 0x00, 0x12, 0x34, 0x4a, 0xbc, 0x8d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab];

const VENUE_RECORDED_US: i64 = 1_795_896_000_000_001; // 2026-11-28T20:00:00.000001Z
const WINDOW_START_US: i64 = 1_795_899_600_000_000; // 2026-11-28T21:00:00Z
const PLACED_AT_US: i64 = 1_795_899_787_250_001; // 2026-11-28T21:03:07.250001Z
const EXPIRES_AT_US: i64 = 1_795_901_587_250_001; // 2026-11-28T21:33:07.250001Z (placed + 30 min)
const B_PLACED_AT_US: i64 = 1_795_899_799_000_000; // 2026-11-28T21:03:19Z
const B_EXPIRES_AT_US: i64 = 1_795_901_599_000_000; // 2026-11-28T21:33:19Z
const CANCELLED_AT_US: i64 = 1_795_899_850_500_000; // 2026-11-28T21:04:10.5Z
const CONFIRMED_AT_US: i64 = 1_795_899_942_000_042; // 2026-11-28T21:05:42.000042Z
const LATE_CONFIRMED_AT_US: i64 = 1_795_901_700_000_000; // 2026-11-28T21:35:00Z
const MISMATCH_OWED_AT_US: i64 = 1_795_899_910_000_000; // 2026-11-28T21:05:10Z
const SECOND_PAYMENT_OWED_AT_US: i64 = 1_795_900_020_000_000; // 2026-11-28T21:07:00Z
const SOLD_OUT_OWED_AT_US: i64 = 1_795_900_200_500_000; // 2026-11-28T21:10:00.5Z
const REFUND_ISSUED_AT_US: i64 = 1_795_900_202_000_123; // 2026-11-28T21:10:02.000123Z
const WINDOW_ENDED_OWED_AT_US: i64 = 1_795_902_000_000_000; // 2026-11-28T21:40:00Z
const CHECKOUT_OPENED_AT_US: i64 = 1_795_899_788_500_000; // 2026-11-28T21:03:08.5Z
/// Stripe's own expiry: whole seconds, at least 30 minutes after creation, so later than
/// the hold's (`EXPIRES_AT_US`).
const CHECKOUT_EXPIRES_AT_US: i64 = 1_795_901_589_000_000; // 2026-11-28T21:33:09Z
const CHECKOUT_CLOSED_AT_US: i64 = 1_795_899_943_000_007; // 2026-11-28T21:05:43.000007Z
/// A's Stripe Checkout Session.
const SESSION_A: &str = "cs_test_a1DemoCheckout0001";
/// Its page: 150 bytes, so that the string's length is a 2-byte varint.
const CHECKOUT_URL_A: &str = "https://checkout.stripe.com/c/pay/cs_test_a1DemoCheckout0001\
                              #fidkdWxOYHwnPyd1blpxYHZxWjA0TDFEb3VBN2JfVEJ3NW1LYXJ8ZklXPGZ8ZWBpdFFzNzVUbz1hXDxSbzV0YEwne";
/// Commit time = event time + 731 us, so that a swap of the two would show.
const COMMIT_LAG_US: i64 = 731;
/// C queues on the sold-out window, is offered B's slots when B's hold is released and
/// has ten minutes to pay; D queues too, leaves, and E is still queued at the end.
const RID_C: [u8; 16] =
    [0x3c, 0x9e, 0x71, 0x55, 0x0b, 0x2f, 0x4d, 0x61, 0xa4, 0x18, 0x77, 0xe0, 0x5c, 0x2a, 0x90, 0x13];
const JOINED_AT_US: i64 = 1_795_899_805_125_000; // 2026-11-28T21:03:25.125Z
const OFFERED_AT_US: i64 = 1_795_900_110_000_000; // 2026-11-28T21:08:30Z
const OFFER_EXPIRES_AT_US: i64 = 1_795_900_710_000_000; // 2026-11-28T21:18:30Z (offered + 600 s)
const LEFT_AT_US: i64 = 1_795_900_260_000_009; // 2026-11-28T21:11:00.000009Z
const WINDOW_END_US: i64 = 1_795_900_500_000_000; // 2026-11-28T21:15:00Z

#[test]
fn literal_times_are_the_instants_they_claim() {
    let cases = [
        (VENUE_RECORDED_US, "2026-11-28T20:00:00.000001Z"),
        (WINDOW_START_US, "2026-11-28T21:00:00Z"),
        (PLACED_AT_US, "2026-11-28T21:03:07.250001Z"),
        (EXPIRES_AT_US, "2026-11-28T21:33:07.250001Z"),
        (B_PLACED_AT_US, "2026-11-28T21:03:19Z"),
        (B_EXPIRES_AT_US, "2026-11-28T21:33:19Z"),
        (JOINED_AT_US, "2026-11-28T21:03:25.125Z"),
        (OFFERED_AT_US, "2026-11-28T21:08:30Z"),
        (OFFER_EXPIRES_AT_US, "2026-11-28T21:18:30Z"),
        (LEFT_AT_US, "2026-11-28T21:11:00.000009Z"),
        (WINDOW_END_US, "2026-11-28T21:15:00Z"),
        (CANCELLED_AT_US, "2026-11-28T21:04:10.5Z"),
        (CONFIRMED_AT_US, "2026-11-28T21:05:42.000042Z"),
        (LATE_CONFIRMED_AT_US, "2026-11-28T21:35:00Z"),
        (MISMATCH_OWED_AT_US, "2026-11-28T21:05:10Z"),
        (SECOND_PAYMENT_OWED_AT_US, "2026-11-28T21:07:00Z"),
        (SOLD_OUT_OWED_AT_US, "2026-11-28T21:10:00.5Z"),
        (REFUND_ISSUED_AT_US, "2026-11-28T21:10:02.000123Z"),
        (WINDOW_ENDED_OWED_AT_US, "2026-11-28T21:40:00Z"),
        (CHECKOUT_OPENED_AT_US, "2026-11-28T21:03:08.5Z"),
        (CHECKOUT_EXPIRES_AT_US, "2026-11-28T21:33:09Z"),
        (CHECKOUT_CLOSED_AT_US, "2026-11-28T21:05:43.000007Z"),
    ];
    for (us, rfc) in cases {
        assert_eq!(t(us), rfc.parse::<DateTime<Utc>>().unwrap(), "{rfc}");
    }
    assert_eq!(ReservationId::from_bytes(RID_A).to_string(), "6f1c2b0e-4a8d-4c3e-9b7a-1d2e3f405162");
    assert_eq!(ReservationId::from_bytes(RID_B).to_string(), "c0ffee00-1234-4abc-8def-0123456789ab");
    assert_eq!(CHECKOUT_URL_A.len(), 150);
    assert!(CHECKOUT_URL_A.starts_with("https://checkout.stripe.com/c/pay/cs_test_a1DemoCheckout0001#fid"));
}

fn t(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).expect("fixture times are in range")
}

fn venue_id() -> VenueId {
    VenueId::parse("demo-bar").unwrap()
}

fn wire_window() -> WindowKeyV1 {
    WindowKeyV1 { venue_id: "demo-bar".into(), start_us: WINDOW_START_US }
}

fn domain_window() -> WindowKey {
    WindowKey::new(venue_id(), t(WINDOW_START_US))
}

fn window_record(recorded_at_us: i64, event: WindowEventV1) -> StoredRecord {
    StoredRecord::V1(RecordV1 { recorded_at_us, body: BodyV1::Window { window: wire_window(), event } })
}

/// One fixture: its file name, the wire value it holds, and the domain value that is.
struct Expectation {
    file: &'static str,
    wire: StoredRecord,
    recorded_at: DateTime<Utc>,
    domain: Record,
}

fn expectations() -> Vec<Expectation> {
    let a = ReservationId::from_bytes(RID_A);
    let b = ReservationId::from_bytes(RID_B);
    vec![
        Expectation {
            file: "venue_registered.bin",
            wire: StoredRecord::V1(RecordV1 {
                recorded_at_us: VENUE_RECORDED_US,
                body: BodyV1::Venue(VenueEventV1::VenueRegistered(VenueV1 {
                    id: "demo-bar".into(),
                    name: "Demo Bar & Café".into(),
                    timezone: "Europe/Berlin".into(),
                    price_minor: 450,
                    currency: "eur".into(),
                    hold_ttl_secs: 1800,
                    default_slots_per_hour: 40,
                    // Sorted by (weekday, hour), as `Schedule::overrides` returns them, so
                    // that the domain value re-encodes to the same bytes.
                    overrides: vec![
                        HourOverrideV1 { weekday: 4, hour: 22, slots_per_hour: 80 },
                        HourOverrideV1 { weekday: 5, hour: 21, slots_per_hour: 300 },
                        HourOverrideV1 { weekday: 6, hour: 0, slots_per_hour: 0 },
                    ],
                })),
            }),
            recorded_at: t(VENUE_RECORDED_US),
            domain: Record::Venue(VenueEvent::VenueRegistered(
                Venue::new(
                    venue_id(),
                    "Demo Bar & Café".into(),
                    chrono_tz::Europe::Berlin,
                    450,
                    "eur",
                    1800,
                    Schedule::new(
                        40,
                        &[
                            HourOverride { weekday: Weekday::Fri, hour: 22, slots_per_hour: 80 },
                            HourOverride { weekday: Weekday::Sat, hour: 21, slots_per_hour: 300 },
                            HourOverride { weekday: Weekday::Sun, hour: 0, slots_per_hour: 0 },
                        ],
                    )
                    .unwrap(),
                )
                .unwrap(),
            )),
        },
        Expectation {
            file: "window_opened.bin",
            wire: window_record(PLACED_AT_US + COMMIT_LAG_US, WindowEventV1::WindowOpened { capacity: 75 }),
            recorded_at: t(PLACED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(domain_window(), WindowEvent::WindowOpened { capacity: 75 }),
        },
        Expectation {
            file: "hold_placed.bin",
            wire: window_record(
                PLACED_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldPlaced {
                    reservation_id: RID_A,
                    quantity: 2,
                    placed_at_us: PLACED_AT_US,
                    expires_at_us: EXPIRES_AT_US,
                    email: Some("ada@example.com".into()),
                },
            ),
            recorded_at: t(PLACED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldPlaced {
                    reservation_id: a,
                    quantity: 2,
                    placed_at: t(PLACED_AT_US),
                    expires_at: t(EXPIRES_AT_US),
                    email: Some("ada@example.com".into()),
                },
            ),
        },
        Expectation {
            file: "hold_placed_no_email.bin",
            wire: window_record(
                B_PLACED_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldPlaced {
                    reservation_id: RID_B,
                    quantity: 1,
                    placed_at_us: B_PLACED_AT_US,
                    expires_at_us: B_EXPIRES_AT_US,
                    email: None,
                },
            ),
            recorded_at: t(B_PLACED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldPlaced {
                    reservation_id: b,
                    quantity: 1,
                    placed_at: t(B_PLACED_AT_US),
                    expires_at: t(B_EXPIRES_AT_US),
                    email: None,
                },
            ),
        },
        Expectation {
            file: "hold_confirmed.bin",
            wire: window_record(
                CONFIRMED_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldConfirmed {
                    reservation_id: RID_A,
                    payment_ref: "pi_3QdemoA1b2C3d4".into(),
                    confirmed_at_us: CONFIRMED_AT_US,
                    late: false,
                },
            ),
            recorded_at: t(CONFIRMED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldConfirmed {
                    reservation_id: a,
                    payment_ref: "pi_3QdemoA1b2C3d4".into(),
                    confirmed_at: t(CONFIRMED_AT_US),
                    late: false,
                },
            ),
        },
        Expectation {
            file: "hold_confirmed_late.bin",
            wire: window_record(
                LATE_CONFIRMED_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldConfirmed {
                    reservation_id: RID_B,
                    payment_ref: "pi_3QdemoLate0001".into(),
                    confirmed_at_us: LATE_CONFIRMED_AT_US,
                    late: true,
                },
            ),
            recorded_at: t(LATE_CONFIRMED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldConfirmed {
                    reservation_id: b,
                    payment_ref: "pi_3QdemoLate0001".into(),
                    confirmed_at: t(LATE_CONFIRMED_AT_US),
                    late: true,
                },
            ),
        },
        Expectation {
            file: "hold_cancelled.bin",
            wire: window_record(
                CANCELLED_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldCancelled { reservation_id: RID_B, cancelled_at_us: CANCELLED_AT_US },
            ),
            recorded_at: t(CANCELLED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldCancelled { reservation_id: b, cancelled_at: t(CANCELLED_AT_US) },
            ),
        },
        Expectation {
            file: "hold_expired.bin",
            wire: window_record(
                B_EXPIRES_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldExpired { reservation_id: RID_B, expired_at_us: B_EXPIRES_AT_US },
            ),
            recorded_at: t(B_EXPIRES_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldExpired { reservation_id: b, expired_at: t(B_EXPIRES_AT_US) },
            ),
        },
        Expectation {
            // B's hold was cancelled; its payment came later, when the window was full.
            file: "refund_owed.bin",
            wire: window_record(
                SOLD_OUT_OWED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundOwed {
                    reservation_id: RID_B,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    amount_minor: Some(450),
                    currency: Some("eur".into()),
                    reason: RefundReasonV1::SoldOut,
                    owed_at_us: SOLD_OUT_OWED_AT_US,
                },
            ),
            recorded_at: t(SOLD_OUT_OWED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundOwed {
                    reservation_id: b,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    amount_minor: Some(450),
                    currency: Some("eur".into()),
                    reason: RefundReason::SoldOut,
                    owed_at: t(SOLD_OUT_OWED_AT_US),
                },
            ),
        },
        Expectation {
            // B was paid again after its hold and the window had ended; the currency is
            // kept as the provider sent it.
            file: "refund_owed_window_ended.bin",
            wire: window_record(
                WINDOW_ENDED_OWED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundOwed {
                    reservation_id: RID_B,
                    payment_intent: "pi_3QdemoLate0005".into(),
                    amount_minor: Some(450),
                    currency: Some("EUR".into()),
                    reason: RefundReasonV1::WindowEnded,
                    owed_at_us: WINDOW_ENDED_OWED_AT_US,
                },
            ),
            recorded_at: t(WINDOW_ENDED_OWED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundOwed {
                    reservation_id: b,
                    payment_intent: "pi_3QdemoLate0005".into(),
                    amount_minor: Some(450),
                    currency: Some("EUR".into()),
                    reason: RefundReason::WindowEnded,
                    owed_at: t(WINDOW_ENDED_OWED_AT_US),
                },
            ),
        },
        Expectation {
            // A second payment for A, already confirmed; the provider reported no amount
            // and no currency.
            file: "refund_owed_no_amount.bin",
            wire: window_record(
                SECOND_PAYMENT_OWED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundOwed {
                    reservation_id: RID_A,
                    payment_intent: "pi_3QdemoTwice003".into(),
                    amount_minor: None,
                    currency: None,
                    reason: RefundReasonV1::AlreadyConfirmed,
                    owed_at_us: SECOND_PAYMENT_OWED_AT_US,
                },
            ),
            recorded_at: t(SECOND_PAYMENT_OWED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundOwed {
                    reservation_id: a,
                    payment_intent: "pi_3QdemoTwice003".into(),
                    amount_minor: None,
                    currency: None,
                    reason: RefundReason::AlreadyConfirmed,
                    owed_at: t(SECOND_PAYMENT_OWED_AT_US),
                },
            ),
        },
        Expectation {
            // A holds 2 slots at 450: 900 was due, 450 was paid (currency not reported).
            file: "refund_owed_amount_mismatch.bin",
            wire: window_record(
                MISMATCH_OWED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundOwed {
                    reservation_id: RID_A,
                    payment_intent: "pi_3QdemoHalf0004".into(),
                    amount_minor: Some(450),
                    currency: None,
                    reason: RefundReasonV1::AmountMismatch,
                    owed_at_us: MISMATCH_OWED_AT_US,
                },
            ),
            recorded_at: t(MISMATCH_OWED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundOwed {
                    reservation_id: a,
                    payment_intent: "pi_3QdemoHalf0004".into(),
                    amount_minor: Some(450),
                    currency: None,
                    reason: RefundReason::AmountMismatch,
                    owed_at: t(MISMATCH_OWED_AT_US),
                },
            ),
        },
        Expectation {
            // The provider accepted the refund owed in `refund_owed.bin`.
            file: "refund_issued.bin",
            wire: window_record(
                REFUND_ISSUED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundIssued {
                    reservation_id: RID_B,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    refund_id: "re_3QdemoSold0002".into(),
                    issued_at_us: REFUND_ISSUED_AT_US,
                },
            ),
            recorded_at: t(REFUND_ISSUED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundIssued {
                    reservation_id: b,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    refund_id: "re_3QdemoSold0002".into(),
                    issued_at: t(REFUND_ISSUED_AT_US),
                },
            ),
        },
        Expectation {
            // A's checkout page, opened just after its hold; Stripe keeps it payable
            // a little longer than the hold lives.
            file: "checkout_opened.bin",
            wire: window_record(
                CHECKOUT_OPENED_AT_US + COMMIT_LAG_US,
                WindowEventV1::CheckoutOpened {
                    reservation_id: RID_A,
                    session_id: SESSION_A.into(),
                    url: CHECKOUT_URL_A.into(),
                    expires_at_us: CHECKOUT_EXPIRES_AT_US,
                    opened_at_us: CHECKOUT_OPENED_AT_US,
                },
            ),
            recorded_at: t(CHECKOUT_OPENED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::CheckoutOpened {
                    reservation_id: a,
                    // `closed` is not on the wire: a page is always open when it opens.
                    checkout: Checkout {
                        session_id: SESSION_A.into(),
                        url: CHECKOUT_URL_A.into(),
                        expires_at: t(CHECKOUT_EXPIRES_AT_US),
                        closed: false,
                    },
                    opened_at: t(CHECKOUT_OPENED_AT_US),
                },
            ),
        },
        Expectation {
            // A was paid (`hold_confirmed.bin`): its page can take no payment any more.
            file: "checkout_closed.bin",
            wire: window_record(
                CHECKOUT_CLOSED_AT_US + COMMIT_LAG_US,
                WindowEventV1::CheckoutClosed {
                    reservation_id: RID_A,
                    session_id: SESSION_A.into(),
                    closed_at_us: CHECKOUT_CLOSED_AT_US,
                },
            ),
            recorded_at: t(CHECKOUT_CLOSED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::CheckoutClosed {
                    reservation_id: a,
                    session_id: SESSION_A.into(),
                    closed_at: t(CHECKOUT_CLOSED_AT_US),
                },
            ),
        },
        Expectation {
            file: "idempotency_reserved.bin",
            wire: StoredRecord::V1(RecordV1 {
                recorded_at_us: PLACED_AT_US + COMMIT_LAG_US,
                body: BodyV1::Idempotency(IdempotencyV1 {
                    key: "checkout-7f3a9c".into(),
                    venue_id: "demo-bar".into(),
                    quantity: Some(2),
                    window_start_us: Some(WINDOW_START_US),
                    email: Some("ada@example.com".into()),
                    outcome: IdempotentOutcomeV1::Reserved { window: wire_window(), reservation_id: RID_A },
                }),
            }),
            recorded_at: t(PLACED_AT_US + COMMIT_LAG_US),
            domain: Record::Idempotency(IdempotencyEntry {
                key: "checkout-7f3a9c".into(),
                venue_id: venue_id(),
                request: ReserveRequest {
                    quantity: Some(2),
                    window_start: Some(t(WINDOW_START_US)),
                    email: Some("ada@example.com".into()),
                    waitlist: false,
                },
                outcome: IdempotentOutcome::Reserved { window: domain_window(), reservation_id: a },
            }),
        },
        Expectation {
            file: "idempotency_sold_out.bin",
            wire: StoredRecord::V1(RecordV1 {
                recorded_at_us: CONFIRMED_AT_US + COMMIT_LAG_US,
                body: BodyV1::Idempotency(IdempotencyV1 {
                    key: "checkout-0b41d2".into(),
                    venue_id: "demo-bar".into(),
                    quantity: Some(3),
                    window_start_us: None,
                    email: None,
                    outcome: IdempotentOutcomeV1::SoldOut { available: 2 },
                }),
            }),
            recorded_at: t(CONFIRMED_AT_US + COMMIT_LAG_US),
            domain: Record::Idempotency(IdempotencyEntry {
                key: "checkout-0b41d2".into(),
                venue_id: venue_id(),
                request: ReserveRequest { quantity: Some(3), window_start: None, email: None, waitlist: false },
                outcome: IdempotentOutcome::SoldOut { available: 2 },
            }),
        },
        Expectation {
            file: "venue_changed.bin",
            wire: StoredRecord::V1(RecordV1 {
                recorded_at_us: VENUE_RECORDED_US,
                body: BodyV1::Venue(VenueEventV1::VenueChanged {
                    venue: VenueV1 {
                        id: "demo-bar".into(),
                        name: "Demo Bar".into(),
                        timezone: "America/New_York".into(),
                        price_minor: 1200,
                        currency: "usd".into(),
                        hold_ttl_secs: 600,
                        default_slots_per_hour: 20,
                        overrides: vec![HourOverrideV1 { weekday: 5, hour: 23, slots_per_hour: 4 }],
                    },
                    by: "admin:ana".into(),
                }),
            }),
            recorded_at: t(VENUE_RECORDED_US),
            domain: Record::Venue(VenueEvent::VenueChanged {
                venue: Venue::new(
                    venue_id(),
                    "Demo Bar".into(),
                    chrono_tz::America::New_York,
                    1200,
                    "usd",
                    600,
                    Schedule::new(20, &[HourOverride { weekday: Weekday::Sat, hour: 23, slots_per_hour: 4 }]).unwrap(),
                )
                .unwrap(),
                by: "admin:ana".into(),
            }),
        },
        Expectation {
            file: "capacity_changed.bin",
            wire: window_record(
                CHECKOUT_CLOSED_AT_US + COMMIT_LAG_US,
                WindowEventV1::CapacityChanged {
                    capacity: 3,
                    changed_at_us: CHECKOUT_CLOSED_AT_US,
                    by: "admin:ana".into(),
                },
            ),
            recorded_at: t(CHECKOUT_CLOSED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::CapacityChanged {
                    capacity: 3,
                    changed_at: t(CHECKOUT_CLOSED_AT_US),
                    by: "admin:ana".into(),
                },
            ),
        },
        Expectation {
            file: "hold_released.bin",
            wire: window_record(
                CANCELLED_AT_US + COMMIT_LAG_US,
                WindowEventV1::HoldReleased {
                    reservation_id: RID_B,
                    released_at_us: CANCELLED_AT_US,
                    by: "admin:door-staff".into(),
                },
            ),
            recorded_at: t(CANCELLED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::HoldReleased {
                    reservation_id: b,
                    released_at: t(CANCELLED_AT_US),
                    by: "admin:door-staff".into(),
                },
            ),
        },
        Expectation {
            // B's debt paid back by two refunds: an operator's 1.00 from the dashboard
            // and the worker's remainder.
            file: "refund_settled.bin",
            wire: window_record(
                REFUND_ISSUED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundSettled {
                    reservation_id: RID_B,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    refund_ids: vec!["re_3QbyOperator01".into(), "re_3QdemoSold0002".into()],
                    refunded_minor: Some(1000),
                    settled_at_us: REFUND_ISSUED_AT_US,
                },
            ),
            recorded_at: t(REFUND_ISSUED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundSettled {
                    reservation_id: b,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    refund_ids: vec!["re_3QbyOperator01".into(), "re_3QdemoSold0002".into()],
                    refunded_minor: Some(1000),
                    settled_at: t(REFUND_ISSUED_AT_US),
                },
            ),
        },
        Expectation {
            file: "refund_failed.bin",
            wire: window_record(
                REFUND_ISSUED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundFailed {
                    reservation_id: RID_B,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    attempts: 16,
                    error: "Stripe answered 400: This charge is disputed.".into(),
                    failed_at_us: REFUND_ISSUED_AT_US,
                },
            ),
            recorded_at: t(REFUND_ISSUED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundFailed {
                    reservation_id: b,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    attempts: 16,
                    error: "Stripe answered 400: This charge is disputed.".into(),
                    failed_at: t(REFUND_ISSUED_AT_US),
                },
            ),
        },
        Expectation {
            file: "refund_retried.bin",
            wire: window_record(
                REFUND_ISSUED_AT_US + COMMIT_LAG_US,
                WindowEventV1::RefundRetried {
                    reservation_id: RID_B,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    retried_at_us: REFUND_ISSUED_AT_US,
                    by: "admin:ana".into(),
                },
            ),
            recorded_at: t(REFUND_ISSUED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::RefundRetried {
                    reservation_id: b,
                    payment_intent: "pi_3QdemoSold0002".into(),
                    retried_at: t(REFUND_ISSUED_AT_US),
                    by: "admin:ana".into(),
                },
            ),
        },
    ]
    .into_iter()
    .chain(waitlist_expectations())
    .collect()
}

/// The waitlist's records: C joins, is offered; D leaves; E expires with the window.
fn waitlist_expectations() -> Vec<Expectation> {
    let c = ReservationId::from_bytes(RID_C);
    let window_record_at = |at_us: i64, event| window_record(at_us + COMMIT_LAG_US, event);
    vec![
        Expectation {
            file: "waitlist_joined.bin",
            wire: window_record_at(
                JOINED_AT_US,
                WindowEventV1::WaitlistJoined {
                    reservation_id: RID_C,
                    quantity: 2,
                    joined_at_us: JOINED_AT_US,
                    email: Some("cleo@example.com".into()),
                    offer_secs: 600,
                },
            ),
            recorded_at: t(JOINED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::WaitlistJoined {
                    reservation_id: c,
                    quantity: 2,
                    joined_at: t(JOINED_AT_US),
                    email: Some("cleo@example.com".into()),
                    offer_secs: 600,
                },
            ),
        },
        Expectation {
            file: "waitlist_offered.bin",
            wire: window_record_at(
                OFFERED_AT_US,
                WindowEventV1::WaitlistOffered {
                    reservation_id: RID_C,
                    offered_at_us: OFFERED_AT_US,
                    expires_at_us: OFFER_EXPIRES_AT_US,
                },
            ),
            recorded_at: t(OFFERED_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::WaitlistOffered {
                    reservation_id: c,
                    offered_at: t(OFFERED_AT_US),
                    expires_at: t(OFFER_EXPIRES_AT_US),
                },
            ),
        },
        Expectation {
            file: "waitlist_left.bin",
            wire: window_record_at(
                LEFT_AT_US,
                WindowEventV1::WaitlistLeft { reservation_id: RID_A, left_at_us: LEFT_AT_US },
            ),
            recorded_at: t(LEFT_AT_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::WaitlistLeft { reservation_id: ReservationId::from_bytes(RID_A), left_at: t(LEFT_AT_US) },
            ),
        },
        Expectation {
            file: "waitlist_expired.bin",
            wire: window_record_at(
                WINDOW_END_US,
                WindowEventV1::WaitlistExpired { reservation_id: RID_B, expired_at_us: WINDOW_END_US },
            ),
            recorded_at: t(WINDOW_END_US + COMMIT_LAG_US),
            domain: Record::Window(
                domain_window(),
                WindowEvent::WaitlistExpired {
                    reservation_id: ReservationId::from_bytes(RID_B),
                    expired_at: t(WINDOW_END_US),
                },
            ),
        },
        Expectation {
            file: "idempotency_waitlist.bin",
            wire: StoredRecord::V1(RecordV1 {
                recorded_at_us: JOINED_AT_US + COMMIT_LAG_US,
                body: BodyV1::IdempotencyWaitlist(IdempotencyV1 {
                    key: "queue-5e11a0".into(),
                    venue_id: "demo-bar".into(),
                    quantity: Some(2),
                    window_start_us: Some(WINDOW_START_US),
                    email: None,
                    outcome: IdempotentOutcomeV1::Reserved { window: wire_window(), reservation_id: RID_C },
                }),
            }),
            recorded_at: t(JOINED_AT_US + COMMIT_LAG_US),
            domain: Record::Idempotency(IdempotencyEntry {
                key: "queue-5e11a0".into(),
                venue_id: venue_id(),
                request: ReserveRequest {
                    quantity: Some(2),
                    window_start: Some(t(WINDOW_START_US)),
                    email: None,
                    waitlist: true,
                },
                outcome: IdempotentOutcome::Reserved { window: domain_window(), reservation_id: c },
            }),
        },
    ]
}

/// The name of the wire variant a record is. The match is exhaustive on purpose: a new
/// variant in `store::wire` stops this file from compiling until it is named here, and
/// `every_wire_variant_has_a_fixture` then demands a fixture for it. Field enums whose
/// index is on the wire (`RefundReasonV1`) are named too, so that each index is pinned
/// by a fixture.
fn wire_variant(record: &StoredRecord) -> &'static str {
    let StoredRecord::V1(RecordV1 { body, .. }) = record;
    match body {
        BodyV1::Venue(VenueEventV1::VenueRegistered(_)) => "V1/Venue/VenueRegistered",
        BodyV1::Venue(VenueEventV1::VenueChanged { .. }) => "V1/Venue/VenueChanged",
        BodyV1::Window { event, .. } => match event {
            WindowEventV1::WindowOpened { .. } => "V1/Window/WindowOpened",
            WindowEventV1::HoldPlaced { .. } => "V1/Window/HoldPlaced",
            WindowEventV1::HoldConfirmed { .. } => "V1/Window/HoldConfirmed",
            WindowEventV1::HoldCancelled { .. } => "V1/Window/HoldCancelled",
            WindowEventV1::HoldExpired { .. } => "V1/Window/HoldExpired",
            WindowEventV1::RefundOwed { reason, .. } => match reason {
                RefundReasonV1::SoldOut => "V1/Window/RefundOwed/SoldOut",
                RefundReasonV1::WindowEnded => "V1/Window/RefundOwed/WindowEnded",
                RefundReasonV1::AlreadyConfirmed => "V1/Window/RefundOwed/AlreadyConfirmed",
                RefundReasonV1::AmountMismatch => "V1/Window/RefundOwed/AmountMismatch",
            },
            WindowEventV1::RefundIssued { .. } => "V1/Window/RefundIssued",
            WindowEventV1::CheckoutOpened { .. } => "V1/Window/CheckoutOpened",
            WindowEventV1::CheckoutClosed { .. } => "V1/Window/CheckoutClosed",
            WindowEventV1::CapacityChanged { .. } => "V1/Window/CapacityChanged",
            WindowEventV1::HoldReleased { .. } => "V1/Window/HoldReleased",
            WindowEventV1::RefundSettled { .. } => "V1/Window/RefundSettled",
            WindowEventV1::RefundFailed { .. } => "V1/Window/RefundFailed",
            WindowEventV1::RefundRetried { .. } => "V1/Window/RefundRetried",
            WindowEventV1::WaitlistJoined { .. } => "V1/Window/WaitlistJoined",
            WindowEventV1::WaitlistOffered { .. } => "V1/Window/WaitlistOffered",
            WindowEventV1::WaitlistLeft { .. } => "V1/Window/WaitlistLeft",
            WindowEventV1::WaitlistExpired { .. } => "V1/Window/WaitlistExpired",
        },
        BodyV1::Idempotency(IdempotencyV1 { outcome, .. }) => match outcome {
            IdempotentOutcomeV1::Reserved { .. } => "V1/Idempotency/Reserved",
            IdempotentOutcomeV1::SoldOut { .. } => "V1/Idempotency/SoldOut",
        },
        BodyV1::IdempotencyWaitlist(_) => "V1/IdempotencyWaitlist",
    }
}

const ALL_WIRE_VARIANTS: [&str; 26] = [
    "V1/Venue/VenueRegistered",
    "V1/Venue/VenueChanged",
    "V1/Window/WindowOpened",
    "V1/Window/HoldPlaced",
    "V1/Window/HoldConfirmed",
    "V1/Window/HoldCancelled",
    "V1/Window/HoldExpired",
    "V1/Window/RefundOwed/SoldOut",
    "V1/Window/RefundOwed/WindowEnded",
    "V1/Window/RefundOwed/AlreadyConfirmed",
    "V1/Window/RefundOwed/AmountMismatch",
    "V1/Window/RefundIssued",
    "V1/Window/CheckoutOpened",
    "V1/Window/CheckoutClosed",
    "V1/Window/CapacityChanged",
    "V1/Window/HoldReleased",
    "V1/Window/RefundSettled",
    "V1/Window/RefundFailed",
    "V1/Window/RefundRetried",
    "V1/Idempotency/Reserved",
    "V1/Idempotency/SoldOut",
    "V1/Window/WaitlistJoined",
    "V1/Window/WaitlistOffered",
    "V1/Window/WaitlistLeft",
    "V1/Window/WaitlistExpired",
    "V1/IdempotencyWaitlist",
];

// ---------------------------------------------------------------------------------------
// Files.

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

fn v1_dir() -> PathBuf {
    events_dir().join("v1")
}

/// Writes missing fixtures when `QSKIP_BLESS_FIXTURES=1`; never overwrites; otherwise
/// does nothing. Runs once per test binary, before any fixture is read.
fn bless_if_asked() {
    static BLESSED: OnceLock<()> = OnceLock::new();
    BLESSED.get_or_init(|| {
        if std::env::var(BLESS_ENV).as_deref() != Ok("1") {
            return;
        }
        std::fs::create_dir_all(v1_dir()).unwrap();
        for e in expectations() {
            let path = v1_dir().join(e.file);
            let bytes = codec::encode_stored(&e.wire);
            match std::fs::read(&path) {
                Ok(existing) => assert_eq!(
                    existing,
                    bytes,
                    "{}: an existing fixture differs from today's encoding; fixtures are never regenerated \
                     (a changed shape is a new StoredRecord version with new fixtures)",
                    path.display()
                ),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::write(&path, &bytes).unwrap();
                    eprintln!("blessed {}", path.display());
                }
                Err(err) => panic!("{}: {err}", path.display()),
            }
        }
    });
}

/// Every `.bin` file in `events/v1/`, sorted, with its bytes.
fn fixture_files() -> Vec<(String, Vec<u8>)> {
    bless_if_asked();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(v1_dir()).expect("events/v1 exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.ends_with(".bin"), "events/v1 holds only .bin fixtures, found {name}");
        files.push((name, std::fs::read(&path).unwrap()));
    }
    files.sort();
    assert!(!files.is_empty(), "no fixtures in events/v1 (bless with {BLESS_ENV}=1)");
    files
}

// ---------------------------------------------------------------------------------------
// The golden checks.

#[test]
fn every_fixture_decodes_to_its_expected_value_and_reencodes_identically() {
    let expectations = expectations();
    let files = fixture_files();
    for (name, bytes) in &files {
        let e = expectations.iter().find(|e| e.file == name).unwrap_or_else(|| {
            panic!("events/v1/{name} has no expectation in tests/it/event_fixtures.rs: write its value out there")
        });

        // Version tag: postcard's varint index of `StoredRecord::V1` is 0.
        assert_eq!(bytes[0], 0x00, "{name}: version tag");

        let wire = codec::decode_stored(bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(wire, e.wire, "{name}: wire value");
        assert_eq!(codec::encode_stored(&wire), *bytes, "{name}: re-encoding the wire value");

        let (recorded_at, record) = codec::decode(bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(recorded_at, e.recorded_at, "{name}: commit time");
        assert_eq!(record, e.domain, "{name}: domain value");
        assert_eq!(codec::encode(recorded_at, &record), *bytes, "{name}: re-encoding the domain value");
    }
    for e in &expectations {
        assert!(
            files.iter().any(|(name, _)| name == e.file),
            "events/v1/{} is missing (bless with {BLESS_ENV}=1)",
            e.file
        );
    }
}

#[test]
fn every_wire_variant_has_a_fixture() {
    let covered: BTreeSet<_> = fixture_files()
        .iter()
        .map(|(name, bytes)| wire_variant(&codec::decode_stored(bytes).unwrap_or_else(|e| panic!("{name}: {e}"))))
        .collect();
    let all: BTreeSet<_> = ALL_WIRE_VARIANTS.into_iter().collect();
    assert_eq!(covered, all);
}

#[test]
fn the_catalogue_names_every_fixture() {
    let readme = std::fs::read_to_string(events_dir().join("README.md")).expect("events/README.md exists");
    for (name, _) in fixture_files() {
        assert!(readme.contains(&format!("v1/{name}")), "events/README.md does not mention v1/{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Corruption.

#[test]
fn any_flipped_bit_or_byte_is_rejected_by_the_checksum() {
    for (name, bytes) in fixture_files() {
        for i in 0..bytes.len() {
            let masks = (0..8).map(|bit| 1u8 << bit).chain([0xff]);
            for mask in masks {
                let mut bad = bytes.clone();
                bad[i] ^= mask;
                assert!(
                    matches!(codec::decode_stored(&bad), Err(DecodeError::Frame(FrameError::Checksum { .. }))),
                    "{name}: byte {i} ^ {mask:#04x} was not caught by the checksum"
                );
                assert!(codec::decode(&bad).is_err(), "{name}: byte {i} ^ {mask:#04x}");
            }
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    for (name, bytes) in fixture_files() {
        for len in 0..bytes.len() {
            let result = codec::decode_stored(&bytes[..len]);
            assert!(
                matches!(result, Err(DecodeError::TooShort(_) | DecodeError::Frame(FrameError::Checksum { .. }))),
                "{name} cut to {len} bytes: {result:?}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_rejected_even_with_a_valid_checksum() {
    let crc32c = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
    for (name, bytes) in fixture_files() {
        let payload = &bytes[..bytes.len() - 4];
        // The stored checksum is CRC-32C (Castagnoli) of the payload, little-endian.
        assert_eq!(bytes[bytes.len() - 4..], crc32c.checksum(payload).to_le_bytes(), "{name}: checksum layout");

        // Garbage appended after the checksum: the last 4 bytes are no longer the CRC.
        let mut appended = bytes.clone();
        appended.extend_from_slice(b"\x00junk");
        assert!(
            matches!(codec::decode_stored(&appended), Err(DecodeError::Frame(FrameError::Checksum { .. }))),
            "{name}"
        );

        // Garbage inside the checksummed payload: postcard alone would accept it, the
        // leftover check must not.
        for garbage in [&b"\x00"[..], b"\x01\x02\x03", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"] {
            let mut forged = payload.to_vec();
            forged.extend_from_slice(garbage);
            let crc = crc32c.checksum(&forged);
            forged.extend_from_slice(&crc.to_le_bytes());
            assert_eq!(
                codec::decode_stored(&forged),
                Err(DecodeError::Frame(FrameError::Trailing(garbage.len()))),
                "{name}"
            );
            assert_eq!(codec::decode(&forged), Err(DecodeError::Frame(FrameError::Trailing(garbage.len()))), "{name}");
            // ... which postcard's plain `from_bytes` would have taken silently.
            let lenient: StoredRecord = postcard::from_bytes(&forged[..forged.len() - 4]).unwrap();
            assert_eq!(lenient, codec::decode_stored(&bytes).unwrap(), "{name}");
        }
    }
}

#[test]
fn an_unknown_version_tag_is_rejected() {
    let crc32c = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
    for (name, bytes) in fixture_files() {
        let mut forged = bytes[..bytes.len() - 4].to_vec();
        forged[0] = 0x01; // StoredRecord::V2 does not exist yet.
        let crc = crc32c.checksum(&forged);
        forged.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(codec::decode_stored(&forged), Err(DecodeError::Frame(FrameError::Payload(_)))), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// The sled key layout documented in events/README.md.

#[test]
fn key_layout_matches_the_catalogue() {
    assert_eq!(keys::log(1), *b"L\x00\x00\x00\x00\x00\x00\x00\x01");
    assert_eq!(keys::log_seq(&keys::log(0x0102_0304_0506_0708)), Some(0x0102_0304_0506_0708));
    assert!(keys::log(255) < keys::log(256), "big-endian seqs sort numerically");

    let window = domain_window();
    let mut expected = b"W\x08demo-bar".to_vec();
    expected.extend_from_slice(&((WINDOW_START_US as u64) ^ (1 << 63)).to_be_bytes());
    assert_eq!(keys::window_prefix(&window), expected);
    assert!(keys::window_prefix(&window).starts_with(&keys::venue_windows_prefix(&window.venue_id)));

    // Biased start: byte order is time order, across the epoch too.
    let starts = [-1_800_000_000i64, -900_000_000, 0, 900_000_000, WINDOW_START_US];
    let prefixes: Vec<_> = starts.iter().map(|&us| keys::window_prefix(&WindowKey::new(venue_id(), t(us)))).collect();
    assert!(prefixes.windows(2).all(|p| p[0] < p[1]), "window keys sort by start");

    // Index entries per record kind, all derived from the record itself.
    use keys::IndexOp::Insert;
    let by_name = |name: &str| expectations().into_iter().find(|e| e.file == name).unwrap().domain;
    let seq = 42u64;
    let seq_be = seq.to_be_bytes().to_vec();
    let mut w_key = expected.clone();
    w_key.extend_from_slice(&seq_be);
    let mut r_key = vec![b'R'];
    r_key.extend_from_slice(&RID_A);
    assert_eq!(
        keys::index_entries(seq, &by_name("hold_placed.bin")),
        vec![Insert(w_key.clone(), vec![]), Insert(r_key, seq_be.clone())]
    );
    assert_eq!(keys::index_entries(seq, &by_name("hold_confirmed.bin")), vec![Insert(w_key.clone(), vec![])]);
    assert_eq!(keys::trailing_seq(&w_key), seq);
    let mut v_key = b"V\x08demo-bar".to_vec();
    v_key.extend_from_slice(&seq_be);
    assert_eq!(keys::index_entries(seq, &by_name("venue_registered.bin")), vec![Insert(v_key, vec![])]);
    assert_eq!(
        keys::index_entries(seq, &by_name("idempotency_reserved.bin")),
        vec![Insert(b"K\x08demo-barcheckout-7f3a9c".to_vec(), seq_be.clone())]
    );

    // `O`: a refund still owed, keyed by reservation id (16 raw bytes) then the payment
    // intent's bytes; `RefundIssued` removes exactly the key its `RefundOwed` inserted.
    let mut o_key = vec![b'O'];
    o_key.extend_from_slice(&RID_B);
    o_key.extend_from_slice(b"pi_3QdemoSold0002");
    assert_eq!(keys::REFUND_OWED, b'O');
    assert_eq!(keys::refund_owed(&ReservationId::from_bytes(RID_B), "pi_3QdemoSold0002"), o_key);
    assert_eq!(
        keys::index_entries(seq, &by_name("refund_owed.bin")),
        vec![Insert(w_key.clone(), vec![]), Insert(o_key.clone(), seq_be.clone())]
    );
    // `F`: an owed refund the worker gave up on, same key shape; settling removes both.
    let mut f_key = vec![b'F'];
    f_key.extend_from_slice(&RID_B);
    f_key.extend_from_slice(b"pi_3QdemoSold0002");
    assert_eq!(keys::REFUND_FAILED, b'F');
    let settled =
        vec![Insert(w_key.clone(), vec![]), keys::IndexOp::Remove(o_key), keys::IndexOp::Remove(f_key.clone())];
    assert_eq!(keys::index_entries(seq, &by_name("refund_issued.bin")), settled);
    assert_eq!(keys::index_entries(seq, &by_name("refund_settled.bin")), settled);
    assert_eq!(
        keys::index_entries(seq, &by_name("refund_failed.bin")),
        vec![Insert(w_key.clone(), vec![]), Insert(f_key.clone(), seq_be.clone())]
    );
    assert_eq!(
        keys::index_entries(seq, &by_name("refund_retried.bin")),
        vec![Insert(w_key.clone(), vec![]), keys::IndexOp::Remove(f_key)]
    );
    let mut o_key_a = vec![b'O'];
    o_key_a.extend_from_slice(&RID_A);
    o_key_a.extend_from_slice(b"pi_3QdemoTwice003");
    assert_eq!(
        keys::index_entries(seq, &by_name("refund_owed_no_amount.bin")),
        vec![Insert(w_key.clone(), vec![]), Insert(o_key_a, seq_be.clone())]
    );

    // `S`: an open checkout page (the session-expiry worker's outbox), keyed by the
    // reservation id alone (a reservation opens at most one); `CheckoutClosed` removes
    // exactly the key its `CheckoutOpened` inserted, whatever its session id.
    let mut s_key = vec![b'S'];
    s_key.extend_from_slice(&RID_A);
    assert_eq!(keys::CHECKOUT_OPEN, b'S');
    assert_eq!(keys::checkout_open(&ReservationId::from_bytes(RID_A)).to_vec(), s_key);
    assert_eq!(
        keys::index_entries(seq, &by_name("checkout_opened.bin")),
        vec![Insert(w_key.clone(), vec![]), Insert(s_key.clone(), seq_be)]
    );
    assert_eq!(
        keys::index_entries(seq, &by_name("checkout_closed.bin")),
        vec![Insert(w_key, vec![]), keys::IndexOp::Remove(s_key)]
    );
    // The one-byte prefixes of the indexes are distinct.
    let prefixes = [keys::LOG, keys::WINDOW, keys::RESERVATION, keys::IDEMPOTENCY, keys::VENUE, keys::REFUND_OWED];
    let prefixes: BTreeSet<u8> = prefixes.into_iter().chain([keys::CHECKOUT_OPEN]).collect();
    assert_eq!(prefixes.len(), 7);
}

// ---------------------------------------------------------------------------------------
// Old records must keep decoding when input validation tightens.

#[test]
fn a_venue_stored_before_the_price_limit_still_decodes() {
    // V1 records were written while any u64 price was accepted. Such a record must still
    // decode (old versions decode forever); failing would surface as
    // `StoreError::Corrupt` and stop startup and `replay`.
    let Expectation { wire, .. } = expectations().into_iter().find(|e| e.file == "venue_registered.bin").unwrap();
    let StoredRecord::V1(RecordV1 { recorded_at_us, body: BodyV1::Venue(VenueEventV1::VenueRegistered(mut venue)) }) =
        wire
    else {
        unreachable!("venue_registered.bin is a venue record")
    };
    venue.price_minor = qskip::limits::PRICE_MINOR_MAX + 1;
    let stored =
        StoredRecord::V1(RecordV1 { recorded_at_us, body: BodyV1::Venue(VenueEventV1::VenueRegistered(venue)) });
    let bytes = codec::encode_stored(&stored);
    assert_eq!(codec::decode_stored(&bytes).as_ref(), Ok(&stored), "the bytes are a well-formed V1 record");
    let decoded = codec::decode(&bytes);
    assert!(decoded.is_ok(), "a once-valid V1 venue no longer decodes: {decoded:?}");
}
