//! `Stripe-Signature` webhook verification, as stripe-python's `WebhookSignature` does it
//! (STRIPE.md 1.5).
//!
//! The header is `t=<unix>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`. Each `v1` is
//! `hex(HMAC-SHA256(key = endpoint secret, msg = "{t}." + raw body))`, where the key is the
//! WHOLE `whsec_…` string as bytes (no prefix stripping, no base64: unlike Svix). While a
//! secret rolls, Stripe signs once per active secret, so any `v1` may match any of our
//! secrets. Other schemes (`v0`, which Stripe adds to test-mode events to check that
//! receivers ignore it) are skipped. The body must be the raw bytes: re-serialized JSON
//! does not verify.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use secrecy::{ExposeSecret, SecretString};

use crate::limits::SIGNATURE_HEADER_BYTES_MAX;

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag, in bytes.
const TAG_BYTES: usize = 32;

/// Why a webhook was refused. Every variant means "answer 400, change nothing".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    MissingHeader,
    #[error("malformed Stripe-Signature header: {0}")]
    Malformed(&'static str),
    #[error("no v1 signature in the Stripe-Signature header")]
    NoV1Signature,
    #[error("no webhook secret is configured")]
    NoSecrets,
    #[error("no v1 signature matches the payload")]
    Mismatch,
    #[error("signature timestamp {timestamp} is older than the {tolerance_secs} s tolerance")]
    Stale { timestamp: i64, tolerance_secs: i64 },
}

/// A parsed header: the timestamp and every `v1` candidate.
#[derive(Debug)]
struct Parsed<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

fn parse(header: &str) -> Result<Parsed<'_>, SignatureError> {
    if header.trim().is_empty() {
        return Err(SignatureError::MissingHeader);
    }
    if header.len() > SIGNATURE_HEADER_BYTES_MAX {
        return Err(SignatureError::Malformed("header too long"));
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let (scheme, value) = item.trim().split_once('=').ok_or(SignatureError::Malformed("item without '='"))?;
        match scheme {
            "t" if timestamp.is_some() => return Err(SignatureError::Malformed("more than one timestamp")),
            "t" => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed("bad timestamp"))?),
            "v1" => v1.push(value),
            _ => {} // v0 and schemes Stripe may add later
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no timestamp"))?;
    if v1.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    Ok(Parsed { timestamp, v1 })
}

fn tag(payload: &[u8], secret: &str, timestamp: i64) -> [u8; TAG_BYTES] {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

/// Verifies `header` (the `Stripe-Signature` value) for the raw `payload`.
///
/// Accepts if any `v1` matches the HMAC under any of `secrets` (constant-time compare),
/// then refuses a timestamp older than `now_unix - tolerance_secs`. The check is
/// one-sided like the official library's: a timestamp in the future passes. Pass
/// `i64::MAX` as tolerance to disable the age check (fixtures).
pub fn verify(
    payload: &[u8],
    header: &str,
    secrets: &[SecretString],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let parsed = parse(header)?;
    if secrets.is_empty() {
        return Err(SignatureError::NoSecrets);
    }
    // A candidate that is not 64 hex digits can never match; it is skipped, not an error,
    // so one garbled entry does not hide a valid one.
    let candidates: Vec<[u8; TAG_BYTES]> = parsed
        .v1
        .iter()
        .filter_map(|hex_tag| {
            let mut bytes = [0u8; TAG_BYTES];
            hex::decode_to_slice(hex_tag, &mut bytes).ok().map(|()| bytes)
        })
        .collect();
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = tag(payload, secret.expose_secret(), parsed.timestamp);
        for candidate in &candidates {
            matched |= expected.ct_eq(candidate);
        }
    }
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    if parsed.timestamp < now_unix.saturating_sub(tolerance_secs) {
        return Err(SignatureError::Stale { timestamp: parsed.timestamp, tolerance_secs });
    }
    Ok(())
}

/// The `Stripe-Signature` header Stripe would send for `payload` signed with `secret` at
/// `timestamp` (for tests and the dev tooling).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    format!("t={timestamp},v1={}", hex::encode(tag(payload, secret, timestamp)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_timestamp_and_every_v1_and_skips_other_schemes() {
        let parsed = parse("t=12,v1=aa,v0=bb,v2=cc,v1=dd").expect("a well-formed header parses");
        assert_eq!(parsed.timestamp, 12);
        assert_eq!(parsed.v1, ["aa", "dd"]);
    }

    #[test]
    fn parse_errors_are_typed() {
        assert_eq!(parse("").unwrap_err(), SignatureError::MissingHeader);
        assert_eq!(parse("garbage").unwrap_err(), SignatureError::Malformed("item without '='"));
        assert_eq!(parse("v1=aa").unwrap_err(), SignatureError::Malformed("no timestamp"));
        assert_eq!(parse("t=x,v1=aa").unwrap_err(), SignatureError::Malformed("bad timestamp"));
        assert_eq!(parse("t=1,t=2,v1=aa").unwrap_err(), SignatureError::Malformed("more than one timestamp"));
        assert_eq!(parse("t=1,v0=aa").unwrap_err(), SignatureError::NoV1Signature);
        let long = format!("t=1,v1={}", "a".repeat(SIGNATURE_HEADER_BYTES_MAX));
        assert_eq!(parse(&long).unwrap_err(), SignatureError::Malformed("header too long"));
    }

    #[test]
    fn a_garbled_candidate_does_not_hide_a_valid_one() {
        let good = sign(b"{}", "whsec_test", 100);
        let header = good.replacen("v1=", "v1=zz,v1=", 1);
        assert_eq!(verify(b"{}", &header, &[SecretString::from("whsec_test")], 100, 300), Ok(()));
    }

    #[test]
    fn no_secrets_is_its_own_error() {
        assert_eq!(verify(b"{}", &sign(b"{}", "whsec_x", 1), &[], 1, 300), Err(SignatureError::NoSecrets));
    }
}
