//! Golden bytes of the snapshot format (`snapshots/v1/*.snap`, format in
//! `snapshots/README.md`).
//!
//! Good fixtures decode to the value written out below, re-encode byte-identically, and
//! survive the trip through domain state unchanged. The bad fixtures (`truncated`,
//! `corrupt`) and every flipped bit, truncation, trailing byte, unknown version and bad
//! magic are refused; start-up then skips such a file for an older one.
//!
//! Blessing: `QSKIP_BLESS_FIXTURES=1 cargo test --test it snapshot_fixtures` writes the
//! fixtures that do not exist yet and never overwrites one: an existing fixture whose
//! bytes differ from today's encoding fails the run. Without the variable nothing is
//! written.

use std::path::PathBuf;
use std::sync::OnceLock;

use qskip::store::frame::FrameError;
use qskip::store::snapshot::codec::{self, MAGIC, SnapshotDecodeError};
use qskip::store::snapshot::wire::*;
use qskip::store::snapshot::{SnapshotDir, convert};
use qskip::store::wire::{HourOverrideV1, RefundReasonV1, VenueV1};

const BLESS_ENV: &str = "QSKIP_BLESS_FIXTURES";

/// 2026-11-28T21:00:00Z, a window start.
const START_US: i64 = 1_795_899_600_000_000;
const MIN_US: i64 = 60_000_000;
const TAKEN_AT_US: i64 = START_US + 7 * MIN_US + 123;
const FULL_SEQ: u64 = 4_242;

fn venue() -> VenueV1 {
    VenueV1 {
        id: "demo-bar".into(),
        name: "Demo Bar & Café".into(),
        timezone: "Europe/Berlin".into(),
        price_minor: 450,
        currency: "eur".into(),
        hold_ttl_secs: 1800,
        default_slots_per_hour: 40,
        // Sorted by (weekday, hour), as the domain schedule returns them.
        overrides: vec![
            HourOverrideV1 { weekday: 4, hour: 22, slots_per_hour: 80 },
            HourOverrideV1 { weekday: 6, hour: 0, slots_per_hour: 0 },
        ],
    }
}

fn reservation(id: u8, status: StatusV1) -> ReservationSnapV1 {
    ReservationSnapV1 {
        id: [id; 16],
        quantity: u32::from(id),
        placed_at_us: START_US + MIN_US,
        expires_at_us: START_US + 31 * MIN_US,
        email: None,
        status,
        payment_ref: None,
        confirmed_at_us: None,
        refunds: Vec::new(),
        checkout: None,
    }
}

/// One window with every stored status, owed and issued refunds, open and closed
/// checkout pages; one opened window without reservations.
fn full() -> StoredSnapshot {
    let held = ReservationSnapV1 {
        email: Some("ana@example.com".into()),
        checkout: Some(CheckoutSnapV1 {
            session_id: "cs_test_open".into(),
            url: "https://checkout.stripe.com/c/pay/cs_test_open".into(),
            expires_at_us: START_US + 32 * MIN_US,
            closed: false,
        }),
        ..reservation(1, StatusV1::Held)
    };
    let confirmed = ReservationSnapV1 {
        payment_ref: Some("pi_paid".into()),
        confirmed_at_us: Some(START_US + 2 * MIN_US),
        refunds: vec![RefundSnapV1 {
            payment_intent: "pi_second".into(),
            amount_minor: Some(900),
            currency: Some("eur".into()),
            reason: RefundReasonV1::AlreadyConfirmed,
            refund_id: Some("re_done".into()),
        }],
        checkout: Some(CheckoutSnapV1 {
            session_id: "cs_test_closed".into(),
            url: "https://checkout.stripe.com/c/pay/cs_test_closed".into(),
            expires_at_us: START_US + 32 * MIN_US,
            closed: true,
        }),
        ..reservation(2, StatusV1::Confirmed)
    };
    let expired = ReservationSnapV1 {
        refunds: vec![RefundSnapV1 {
            payment_intent: "pi_late".into(),
            amount_minor: None,
            currency: None,
            reason: RefundReasonV1::SoldOut,
            refund_id: None,
        }],
        ..reservation(3, StatusV1::Expired)
    };
    StoredSnapshot::V1(SnapshotV1 {
        last_seq: FULL_SEQ,
        record_version: 0,
        taken_at_us: TAKEN_AT_US,
        venues: vec![venue()],
        windows: vec![
            WindowSnapV1 {
                venue_id: "demo-bar".into(),
                start_us: START_US,
                capacity: 10,
                opened: true,
                reservations: vec![held, confirmed, expired, reservation(4, StatusV1::Cancelled)],
            },
            WindowSnapV1 {
                venue_id: "demo-bar".into(),
                start_us: START_US + 15 * MIN_US,
                capacity: 20,
                opened: true,
                reservations: vec![],
            },
        ],
    })
}

fn empty() -> StoredSnapshot {
    StoredSnapshot::V1(SnapshotV1 {
        last_seq: 0,
        record_version: 0,
        taken_at_us: TAKEN_AT_US,
        venues: vec![],
        windows: vec![],
    })
}

/// `full()` as the service writes it (V2): tied to its log record, and with the refund
/// states V1 cannot hold (the settled refund records what it paid back; the owed one
/// waits for an operator).
fn anchored() -> StoredSnapshot {
    let StoredSnapshot::V1(body) = full() else { unreachable!("full() is a V1 snapshot") };
    let state = |id: u8, intent: &str, refunded_minor, failure| RefundStateV2 {
        venue_id: "demo-bar".into(),
        start_us: START_US,
        reservation_id: [id; 16],
        payment_intent: intent.into(),
        refunded_minor,
        failure,
    };
    let failure = RefundFailureV2 { attempts: 16, error: "Stripe answered 400".into(), failed_at_us: TAKEN_AT_US - 1 };
    let refunds = vec![state(2, "pi_second", Some(900), None), state(3, "pi_late", None, Some(failure))];
    StoredSnapshot::V2(SnapshotV2 { anchor_crc: Some(0x8d2c_41f3), body, refunds })
}

/// `anchored()` with a waitlist (V3) in its second window (capacity 20): 9 was offered
/// its slots from the queue and holds them; 12 and 13 queue (12 does not fit the 11
/// left, so it blocks 13).
fn waitlisted() -> StoredSnapshot {
    let StoredSnapshot::V2(mut v2) = anchored() else { unreachable!("anchored() is a V2 snapshot") };
    let offered_at_us = START_US + 16 * MIN_US;
    let offer = ReservationSnapV1 {
        placed_at_us: START_US + 3 * MIN_US,
        expires_at_us: offered_at_us + 10 * MIN_US,
        ..reservation(9, StatusV1::Held)
    };
    let queued = |id| ReservationSnapV1 {
        placed_at_us: START_US + 4 * MIN_US + i64::from(id),
        expires_at_us: START_US + 30 * MIN_US,
        email: Some(format!("guest{id}@example.com")),
        ..reservation(id, StatusV1::Waitlisted)
    };
    v2.body.windows[1].reservations = vec![offer, queued(12), queued(13)];
    let entry = |id: u8| QueuedV3 { reservation_id: [id; 16], quantity: u32::from(id), offer_secs: 600 };
    let waitlists = vec![WaitlistStateV3 {
        venue_id: "demo-bar".into(),
        start_us: START_US + 15 * MIN_US,
        queue: vec![entry(12), entry(13)],
        offers: vec![OfferV3 { reservation_id: [9; 16], offered_at_us }],
    }];
    StoredSnapshot::V3(SnapshotV3 { v2, waitlists })
}

fn good() -> Vec<(&'static str, StoredSnapshot)> {
    vec![("empty.snap", empty()), ("full.snap", full()), ("anchored.snap", anchored()), ("waitlist.snap", waitlisted())]
}

/// The refused fixtures, derived from `full.snap`.
fn bad() -> Vec<(&'static str, Vec<u8>)> {
    let bytes = codec::encode(&full());
    let truncated = bytes[..bytes.len() - 7].to_vec();
    let mut corrupt = bytes.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x20;
    vec![("truncated.snap", truncated), ("corrupt.snap", corrupt)]
}

fn v1_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots").join("v1")
}

fn bless_if_asked() {
    static BLESSED: OnceLock<()> = OnceLock::new();
    BLESSED.get_or_init(|| {
        if std::env::var(BLESS_ENV).as_deref() != Ok("1") {
            return;
        }
        std::fs::create_dir_all(v1_dir()).unwrap();
        let all = good().into_iter().map(|(name, s)| (name, codec::encode(&s))).chain(bad());
        for (name, bytes) in all {
            let path = v1_dir().join(name);
            match std::fs::read(&path) {
                Ok(existing) => assert_eq!(existing, bytes, "{name}: fixtures are never regenerated"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::write(&path, &bytes).unwrap();
                    eprintln!("blessed {}", path.display());
                }
                Err(e) => panic!("{name}: {e}"),
            }
        }
    });
}

fn fixture(name: &str) -> Vec<u8> {
    bless_if_asked();
    std::fs::read(v1_dir().join(name)).unwrap_or_else(|e| panic!("snapshots/v1/{name}: {e} (bless with {BLESS_ENV}=1)"))
}

#[test]
fn good_fixtures_decode_to_their_values_and_reencode_identically() {
    for (name, expected) in good() {
        let bytes = fixture(name);
        let decoded = codec::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, expected, "{name}");
        assert_eq!(codec::encode(&decoded), bytes, "{name}: re-encoding");
        // Through domain state and back: nothing lost, nothing reordered (a V1 snapshot
        // comes back as the unanchored V2 of the same state, with no refund states).
        let anchor = convert::anchor_of(&decoded);
        let current = match decoded.clone() {
            StoredSnapshot::V1(body) => StoredSnapshot::V2(SnapshotV2 { anchor_crc: None, body, refunds: vec![] }),
            v2 => v2,
        };
        let state = convert::from_wire(decoded).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rewired = match anchor {
            Some(anchor) => convert::to_wire_anchored(&state, anchor),
            None => convert::to_wire(&state),
        };
        assert_eq!(rewired, current, "{name}: via domain state");
    }
}

#[test]
fn the_bad_fixtures_are_refused() {
    for (name, expected) in bad() {
        let bytes = fixture(name);
        assert_eq!(bytes, expected, "{name} is what its recipe makes");
        assert!(codec::decode(&bytes).is_err(), "{name} decoded");
    }
    assert!(matches!(
        codec::decode(&fixture("truncated.snap")),
        Err(SnapshotDecodeError::Frame(FrameError::Checksum { .. }))
    ));
    assert!(matches!(
        codec::decode(&fixture("corrupt.snap")),
        Err(SnapshotDecodeError::Frame(FrameError::Checksum { .. }))
    ));
}

#[test]
fn every_flipped_bit_and_every_truncation_is_refused() {
    let bytes = fixture("full.snap");
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            assert!(codec::decode(&flipped).is_err(), "bit {bit} of byte {i} flipped");
        }
    }
    for len in 0..bytes.len() {
        assert!(codec::decode(&bytes[..len]).is_err(), "truncated to {len}");
    }
}

/// Re-frames a payload with a valid magic and checksum, so only the payload is judged.
fn framed(payload: &[u8]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(payload);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn trailing_bytes_an_unknown_version_and_a_bad_magic_are_refused() {
    let bytes = fixture("full.snap");
    let payload = &bytes[MAGIC.len()..bytes.len() - 4];
    assert_eq!(codec::decode(&framed(payload)), Ok(full()), "re-framing alone changes nothing");
    let mut trailing = payload.to_vec();
    trailing.push(0);
    assert_eq!(codec::decode(&framed(&trailing)), Err(SnapshotDecodeError::Frame(FrameError::Trailing(1))));
    let mut next_version = payload.to_vec();
    next_version[0] = 3; // V1 = 0, V2 = 1, V3 = 2: 3 is the first unknown version
    assert!(matches!(codec::decode(&framed(&next_version)), Err(SnapshotDecodeError::Frame(FrameError::Payload(_)))));
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(codec::decode(&magic), Err(SnapshotDecodeError::BadMagic));
}

#[test]
fn start_up_skips_unreadable_snapshots_for_an_older_good_one() {
    let data = tempfile::tempdir().unwrap();
    let dir = SnapshotDir::of_data_dir(data.path());
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.file_of(FULL_SEQ), fixture("full.snap")).unwrap();
    std::fs::write(dir.file_of(FULL_SEQ + 1), fixture("truncated.snap")).unwrap();
    std::fs::write(dir.file_of(FULL_SEQ + 2), fixture("corrupt.snap")).unwrap();
    let chosen = dir.latest_good(u64::MAX).expect("the good snapshot is found");
    assert_eq!(chosen.last_seq, FULL_SEQ);
    // A snapshot covering more than the log holds is ignored too.
    assert!(dir.latest_good(FULL_SEQ - 1).is_none());
    // A file whose name and content disagree is not trusted.
    std::fs::remove_file(dir.file_of(FULL_SEQ)).unwrap();
    std::fs::write(dir.file_of(FULL_SEQ + 3), fixture("full.snap")).unwrap();
    assert!(dir.latest_good(u64::MAX).is_none());
}

#[test]
fn a_queue_that_misses_a_waitlisted_reservation_or_names_another_is_refused() {
    let StoredSnapshot::V3(good) = waitlisted() else { unreachable!("waitlisted() is a V3 snapshot") };
    let mut missing = good.clone();
    missing.waitlists[0].queue.pop();
    assert!(convert::from_wire(StoredSnapshot::V3(missing)).is_err(), "a waitlisted reservation outside the queue");
    let mut foreign = good.clone();
    foreign.waitlists[0].queue[0].reservation_id = [9; 16];
    assert!(convert::from_wire(StoredSnapshot::V3(foreign)).is_err(), "a held reservation in the queue");
    // A V2 file cannot order a queue: a waitlisted reservation in it is refused.
    assert!(convert::from_wire(StoredSnapshot::V2(good.v2.clone())).is_err());
    assert!(convert::from_wire(StoredSnapshot::V3(good)).is_ok());
}
