//! One entry function per fuzz target: the input bytes go through the real parser or
//! decoder, and whatever it accepts is checked further (round trips, folds), so that a
//! panic anywhere on the way is a finding.
//!
//! This file is compiled twice: by the fuzz crate (`fuzz/`, for `cargo fuzz`) and by the
//! root test suite (`tests/it/fuzz_corpus.rs` includes it by path), which replays every
//! file of `fuzz/corpus/<target>/` through the same function without a fuzzer.
//! Inputs that fail to parse are fine; only panics and broken properties are findings.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use qskip::domain::{
    Command, ReserveRequest, VenueId, Window, WindowKey, resolve_window_start, window_start_of, window_starts_covering,
};
use qskip::http::admin::dto::VenueBody;
use qskip::http::dto::{CreateReservationBody, WindowsQuery};
use qskip::http::live::StreamQuery;
use qskip::limits::{LIVE_DEFAULT_WINDOWS, SALES_HORIZON_DAYS_MAX, WINDOW_SECS, WINDOWS_PER_QUERY_MAX};
use qskip::store::{Record, codec};
use qskip::stripe::{WebhookAction, event, signature};

/// A fixed "now" (2026-11-28T21:07:00Z): fuzzing must be deterministic.
const NOW_UNIX: i64 = 1_795_900_020;
const SECRET: &str = "whsec_fuzz";
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW_UNIX, 0).expect("a fixed, valid instant")
}

/// `[0x01, rest..]` means "append the right CRC-32C to `rest`", so the fuzzer reaches the
/// decoders behind the checksum; any other first byte passes the bytes on unchanged.
fn with_crc_option(data: &[u8]) -> Vec<u8> {
    match data.split_first() {
        Some((1, rest)) => {
            let mut bytes = rest.to_vec();
            bytes.extend_from_slice(&CRC32C.checksum(rest).to_le_bytes());
            bytes
        }
        _ => data.to_vec(),
    }
}

/// `Stripe-Signature` header (first line) and payload (the rest): verify never panics,
/// and a header we sign for this payload always verifies.
pub fn stripe_signature(data: &[u8]) {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (header, payload) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let Ok(header) = std::str::from_utf8(header) else { return };
    let secrets = [secrecy::SecretString::from(SECRET)];
    let _ = signature::verify(payload, header, &secrets, NOW_UNIX, 300);
    let good = signature::sign(payload, SECRET, NOW_UNIX);
    assert_eq!(signature::verify(payload, &good, &secrets, NOW_UNIX, 300), Ok(()));
    // The fuzzed header's items appended to a good one never turn it into a refusal
    // unless they add a second timestamp or make it malformed.
    let combined = format!("{good},{header}");
    if let Err(error) = signature::verify(payload, &combined, &secrets, NOW_UNIX, 300) {
        assert!(matches!(error, signature::SignatureError::Malformed(_)), "{combined:?}: {error}");
    }
}

/// A webhook body: parsed and decided without panicking; a reservation id it names is
/// parsed the way the webhook handler parses it.
pub fn webhook_event(data: &[u8]) {
    let Ok(action) = event::action_for_payload(data) else { return };
    match action {
        WebhookAction::Confirm { reservation_id, amount_total, .. } => {
            let _ = reservation_id.parse::<qskip::domain::ReservationId>();
            let _ = amount_total.and_then(|a| u64::try_from(a).ok());
        }
        WebhookAction::Release { reservation_id, .. } | WebhookAction::KeepWaiting { reservation_id, .. } => {
            let _ = reservation_id.parse::<qskip::domain::ReservationId>();
        }
        WebhookAction::Ignore(_) => {}
    }
}

/// The JSON bodies of the routes (first byte picks the route), then what the handler
/// does with an accepted body before any actor is asked.
pub fn request_bodies(data: &[u8]) {
    let Some((route, body)) = data.split_first() else { return };
    match route % 2 {
        0 => {
            let Ok(body) = serde_json::from_slice::<CreateReservationBody>(body) else { return };
            let request = ReserveRequest::from(body);
            let _ = (request.quantity(), request.email());
            if let Ok(start) = resolve_window_start(request.window_start, now(), SALES_HORIZON_DAYS_MAX) {
                let venue = VenueId::parse("fuzz").expect("a valid venue id");
                let key = WindowKey::new(venue, start);
                assert!(key.end() > now(), "a resolved window is not over");
            }
        }
        _ => {
            let Ok(body) = serde_json::from_slice::<VenueBody>(body) else { return };
            let Ok(venue) = body.into_spec("fuzz".to_owned()).into_venue(900) else { return };
            let _ = (venue.capacity_at(window_start_of(now())), venue.hold_ttl());
        }
    }
}

/// Query strings of `/windows` (even first byte) and `/stream` (odd), with the
/// handlers' defaults and range check, then the windows the range covers.
pub fn time_query(data: &[u8]) {
    let Some((route, query)) = data.split_first() else { return };
    let (from, to, default_span) = if route % 2 == 0 {
        let Ok(q) = serde_urlencoded::from_bytes::<WindowsQuery>(query) else { return };
        (q.from, q.to, Duration::nanoseconds(1))
    } else {
        let Ok(q) = serde_urlencoded::from_bytes::<StreamQuery>(query) else { return };
        (q.from, q.to, Duration::seconds(WINDOW_SECS) * LIVE_DEFAULT_WINDOWS)
    };
    let from = from.unwrap_or_else(now);
    let Some(to) = to.or_else(|| from.checked_add_signed(default_span)) else { return };
    let reach = Duration::days(i64::from(SALES_HORIZON_DAYS_MAX));
    if from < now() - reach || to > now() + reach || to <= from {
        return;
    }
    let starts: Vec<_> = window_starts_covering(from, to).take(WINDOWS_PER_QUERY_MAX + 1).collect();
    assert!(starts.first().is_some_and(|s| *s <= from), "the first window covers `from`");
    let venue = VenueId::parse("fuzz").expect("a valid venue id");
    for start in starts {
        assert!(WindowKey::new(venue.clone(), start).end() > from, "every window overlaps the range");
    }
}

/// Log records (`u16` little-endian length, then the record, repeated): each decodes or
/// is refused; an accepted one re-encodes to an equal record; the window events are
/// folded the way replay folds a log it did not write (audit, then apply).
pub fn record_decode(data: &[u8]) {
    let mut windows: BTreeMap<WindowKey, Window> = BTreeMap::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let chunk = &rest[2..(2 + len).min(rest.len())];
        rest = &rest[(2 + len).min(rest.len())..];
        let Ok((at, record)) = codec::decode(&with_crc_option(chunk)) else { continue };
        let again = codec::decode(&codec::encode(at, &record)).expect("a re-encoded record decodes");
        assert_eq!(again, (at, record.clone()), "record round trip");
        if let Record::Window(key, event) = record {
            let window = windows.entry(key.clone()).or_insert_with(|| Window::unopened(key, 0));
            if window.audit(&event).is_ok() {
                window.apply(&event);
            }
        }
    }
    for window in windows.values_mut() {
        fold_expiries(window);
    }
}

/// Snapshot bytes: refused, or a state that round-trips, digests, and whose windows can
/// still decide and apply.
pub fn snapshot_decode(data: &[u8]) {
    use qskip::store::snapshot::{codec as snap_codec, convert, state_digest};
    let mut bytes = snap_codec::MAGIC.to_vec();
    match data.split_first() {
        // 0x01: magic and checksum added, the fuzzer writes the payload.
        Some((1, payload)) => {
            bytes.extend_from_slice(payload);
            let crc = CRC32C.checksum(&bytes);
            bytes.extend_from_slice(&crc.to_le_bytes());
        }
        _ => bytes = data.to_vec(),
    }
    let Ok(stored) = snap_codec::decode(&bytes) else { return };
    let Ok(mut state) = convert::from_wire(stored) else { return };
    let again =
        snap_codec::decode(&snap_codec::encode(&convert::to_wire(&state))).expect("re-encoded snapshot decodes");
    assert_eq!(convert::from_wire(again).as_ref(), Ok(&state), "snapshot round trip");
    let _ = state_digest(state.windows.values());
    for window in state.windows.values_mut() {
        fold_expiries(window);
    }
}

/// A window restored from bytes must still take a decision and fold its events.
fn fold_expiries(window: &mut Window) {
    let at = window.earliest_expiry().unwrap_or_else(now);
    if let Ok(events) = window.decide(&Command::ExpireDue, at) {
        for event in &events {
            assert_eq!(window.audit(event), Ok(()), "decide produced an illegal event");
            window.apply(event);
        }
    }
}
