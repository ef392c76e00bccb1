//! The key layout of the one sled tree (documented in `events/README.md`).
//!
//! | prefix | key                                           | value              |
//! |--------|-----------------------------------------------|--------------------|
//! | `L`    | seq (u64 BE)                                  | encoded record     |
//! | `W`    | venue len (u8), venue, start (u64 BE, biased), seq | empty         |
//! | `R`    | reservation id (16 bytes)                     | seq of HoldPlaced  |
//! | `K`    | venue len (u8), venue, idempotency key (UTF-8) | seq of the answer |
//! | `V`    | venue len (u8), venue, seq                    | empty              |
//! | `O`    | reservation id (16 bytes), payment intent     | seq of RefundOwed  |
//! | `S`    | reservation id (16 bytes)                     | seq of CheckoutOpened |
//! | `F`    | reservation id (16 bytes), payment intent     | seq of RefundFailed |
//!
//! `O` holds only refunds still owed: `RefundSettled` (or the older `RefundIssued`)
//! removes its entry, so the refund worker resumes after a restart by scanning what is
//! left. `F` marks the owed refunds the worker gave up on (`RefundFailed`) until an
//! operator retries them (`RefundRetried` removes the mark): the operator's list. `S` likewise holds only
//! checkout pages still open (`CheckoutClosed` removes the entry): the session-expiry
//! worker's outbox.
//!
//! `L` in key order is commit order (all history). `W` makes one window's events a
//! single prefix scan, whatever the log's size. Every index entry is derived from a
//! record and written in the same atomic batch, so an index never runs ahead of the log.

use chrono::{DateTime, Utc};

use super::record::Record;
use crate::domain::{VenueId, WindowEvent, WindowKey};

pub const LOG: u8 = b'L';
pub const WINDOW: u8 = b'W';
pub const RESERVATION: u8 = b'R';
pub const IDEMPOTENCY: u8 = b'K';
pub const VENUE: u8 = b'V';
pub const REFUND_OWED: u8 = b'O';
pub const CHECKOUT_OPEN: u8 = b'S';
pub const REFUND_FAILED: u8 = b'F';

/// `S` key of a reservation's open checkout page.
pub fn checkout_open(id: &crate::domain::ReservationId) -> [u8; 17] {
    let mut key = [CHECKOUT_OPEN; 17];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

/// A change to an index, written in the same batch as its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexOp {
    Insert(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
}

/// `O` key of the refund owed for one payment of one reservation.
pub fn refund_owed(id: &crate::domain::ReservationId, payment_intent: &str) -> Vec<u8> {
    refund_key(REFUND_OWED, id, payment_intent)
}

/// `F` key of an owed refund the worker gave up on.
pub fn refund_failed(id: &crate::domain::ReservationId, payment_intent: &str) -> Vec<u8> {
    refund_key(REFUND_FAILED, id, payment_intent)
}

fn refund_key(tag: u8, id: &crate::domain::ReservationId, payment_intent: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(17 + payment_intent.len());
    key.push(tag);
    key.extend_from_slice(id.as_bytes());
    key.extend_from_slice(payment_intent.as_bytes());
    key
}

pub fn log(seq: u64) -> [u8; 9] {
    let mut key = [LOG; 9];
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The seq of an `L` key, if it is one.
pub fn log_seq(key: &[u8]) -> Option<u64> {
    (key.len() == 9 && key[0] == LOG).then(|| u64::from_be_bytes(key[1..].try_into().expect("length checked")))
}

fn venue_prefix(tag: u8, venue: &VenueId) -> Vec<u8> {
    let id = venue.as_str().as_bytes();
    let len = u8::try_from(id.len()).expect("venue ids are at most VENUE_ID_LEN_MAX (< 256) bytes");
    let mut key = Vec::with_capacity(2 + id.len() + 16);
    key.push(tag);
    key.push(len);
    key.extend_from_slice(id);
    key
}

/// Maps i64 micros onto u64 so that byte order equals time order (negative included).
fn biased(t: DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of `biased`.
fn unbiased(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

/// The window start (micros) inside a `W` key whose venue prefix is `prefix_len` long.
pub fn window_start_micros(key: &[u8], prefix_len: usize) -> i64 {
    let start: [u8; 8] =
        key[prefix_len..prefix_len + 8].try_into().expect("W keys hold 8 bytes of start after the venue");
    unbiased(start)
}

/// The window and seq a `W` key names; `None` for a malformed key.
pub fn parse_window_index(key: &[u8]) -> Option<(WindowKey, u64)> {
    let (&tag, rest) = key.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if tag != WINDOW || rest.len() != len + 16 {
        return None;
    }
    let venue = VenueId::parse(std::str::from_utf8(&rest[..len]).ok()?).ok()?;
    let start = DateTime::from_timestamp_micros(window_start_micros(key, 2 + len))?;
    Some((WindowKey::new(venue, start), trailing_seq(key)))
}

/// Index key prefix of one venue's windows starting at or after `since`.
pub fn venue_windows_from(venue: &VenueId, since: DateTime<Utc>) -> Vec<u8> {
    let mut key = venue_prefix(WINDOW, venue);
    key.extend_from_slice(&biased(since));
    key
}

/// Prefix of every index key of one window.
pub fn window_prefix(window: &WindowKey) -> Vec<u8> {
    let mut key = venue_prefix(WINDOW, &window.venue_id);
    key.extend_from_slice(&biased(window.start));
    key
}

/// Prefix of the index keys of every window of one venue.
pub fn venue_windows_prefix(venue: &VenueId) -> Vec<u8> {
    venue_prefix(WINDOW, venue)
}

/// The seq at the end of a `W` or `V` index key.
pub fn trailing_seq(key: &[u8]) -> u64 {
    let tail = &key[key.len() - 8..];
    u64::from_be_bytes(tail.try_into().expect("slice of 8 bytes"))
}

pub fn reservation(id: &crate::domain::ReservationId) -> [u8; 17] {
    let mut key = [RESERVATION; 17];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

/// `K` key of an idempotency key, scoped by venue: the same key sent to two venues
/// names two requests.
pub fn idempotency(venue: &VenueId, key: &str) -> Vec<u8> {
    let mut out = venue_prefix(IDEMPOTENCY, venue);
    out.extend_from_slice(key.as_bytes());
    out
}

/// The `K` key older versions wrote (the key alone, one namespace for every venue).
/// Still read, so a retry of a request answered before the upgrade finds its answer;
/// the record it points at is checked for its venue and key.
pub fn idempotency_unscoped(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(IDEMPOTENCY);
    out.extend_from_slice(key.as_bytes());
    out
}

pub fn venue_prefix_of(venue: &VenueId) -> Vec<u8> {
    venue_prefix(VENUE, venue)
}

/// The index changes a record at `seq` makes, besides its own `L` entry.
pub fn index_entries(seq: u64, record: &Record) -> Vec<IndexOp> {
    let seq_bytes = seq.to_be_bytes();
    let mut ops = Vec::with_capacity(2);
    match record {
        Record::Window(window, event) => {
            let mut key = window_prefix(window);
            key.extend_from_slice(&seq_bytes);
            ops.push(IndexOp::Insert(key, Vec::new()));
            match event {
                WindowEvent::HoldPlaced { reservation_id, .. } | WindowEvent::WaitlistJoined { reservation_id, .. } => {
                    ops.push(IndexOp::Insert(reservation(reservation_id).to_vec(), seq_bytes.to_vec()));
                }
                WindowEvent::RefundOwed { reservation_id, payment_intent, .. } => {
                    ops.push(IndexOp::Insert(refund_owed(reservation_id, payment_intent), seq_bytes.to_vec()));
                }
                WindowEvent::RefundIssued { reservation_id, payment_intent, .. }
                | WindowEvent::RefundSettled { reservation_id, payment_intent, .. } => {
                    ops.push(IndexOp::Remove(refund_owed(reservation_id, payment_intent)));
                    ops.push(IndexOp::Remove(refund_failed(reservation_id, payment_intent)));
                }
                WindowEvent::RefundFailed { reservation_id, payment_intent, .. } => {
                    ops.push(IndexOp::Insert(refund_failed(reservation_id, payment_intent), seq_bytes.to_vec()));
                }
                WindowEvent::RefundRetried { reservation_id, payment_intent, .. } => {
                    ops.push(IndexOp::Remove(refund_failed(reservation_id, payment_intent)));
                }
                WindowEvent::CheckoutOpened { reservation_id, .. } => {
                    ops.push(IndexOp::Insert(checkout_open(reservation_id).to_vec(), seq_bytes.to_vec()));
                }
                WindowEvent::CheckoutClosed { reservation_id, .. } => {
                    ops.push(IndexOp::Remove(checkout_open(reservation_id).to_vec()));
                }
                _ => {}
            }
        }
        Record::Venue(event) => {
            let mut key = venue_prefix_of(&event.venue().id);
            key.extend_from_slice(&seq_bytes);
            ops.push(IndexOp::Insert(key, Vec::new()));
        }
        Record::Idempotency(entry) => {
            ops.push(IndexOp::Insert(idempotency(&entry.venue_id, &entry.key), seq_bytes.to_vec()))
        }
    }
    ops
}
