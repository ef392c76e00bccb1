//! `Stripe-Signature` verification: an independently computed HMAC, a real signature that
//! Stripe produced in test mode, several `v1` values, rolling secrets, and every refusal.

use hmac::{Hmac, KeyInit, Mac};
use qskip::stripe::SIGNATURE_TOLERANCE_SECS_DEFAULT as TOLERANCE;
use qskip::stripe::signature::{SignatureError, sign, verify};
use sha2::Sha256;

const SECRET: &str = "whsec_test_5nD3kT9pQ2mX7vL1";
const OLD_SECRET: &str = "whsec_previous_secret_8yF2";
const PAYLOAD: &[u8] = b"{\n  \"id\": \"evt_1\",\n  \"type\": \"checkout.session.completed\"\n}";
const NOW: i64 = 1_764_331_500;

fn secrets(list: &[&str]) -> Vec<secrecy::SecretString> {
    list.iter().map(|s| secrecy::SecretString::from(*s)).collect()
}

/// HMAC-SHA256 of `"{t}." + payload` under `key`, straight from the hmac crate.
fn reference_hex(key: &[u8], t: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn sign_matches_an_independent_hmac_and_verifies() {
    let header = sign(PAYLOAD, SECRET, NOW);
    assert_eq!(header, format!("t={NOW},v1={}", reference_hex(SECRET.as_bytes(), NOW, PAYLOAD)));
    assert_eq!(verify(PAYLOAD, &header, &secrets(&[SECRET]), NOW, TOLERANCE), Ok(()));
}

/// Known-answer vector: key "whsec_test", t = 1, body "{}" (computed with Python's
/// `hmac.new(b"whsec_test", b"1.{}", hashlib.sha256).hexdigest()`).
#[test]
fn known_answer_vector() {
    let expected = "7500d5d4be4b3ef07af1fe56f7d522d135cdaa7530de557e67cc1049c52de094";
    assert_eq!(reference_hex(b"whsec_test", 1, b"{}"), expected);
    assert_eq!(sign(b"{}", "whsec_test", 1), format!("t=1,v1={expected}"));
}

#[test]
fn one_valid_v1_among_several_is_enough() {
    let valid = reference_hex(SECRET.as_bytes(), NOW, PAYLOAD);
    let bogus = reference_hex(b"whsec_someone_else", NOW, PAYLOAD);
    let header = format!("t={NOW},v1={bogus},v1={valid},v0={bogus}");
    assert_eq!(verify(PAYLOAD, &header, &secrets(&[SECRET]), NOW, TOLERANCE), Ok(()));
}

#[test]
fn rolling_secrets_accept_either_signature() {
    // During a roll Stripe signs once per active secret.
    let header = format!(
        "t={NOW},v1={},v1={}",
        reference_hex(SECRET.as_bytes(), NOW, PAYLOAD),
        reference_hex(OLD_SECRET.as_bytes(), NOW, PAYLOAD)
    );
    let both = secrets(&[SECRET, OLD_SECRET]);
    assert_eq!(verify(PAYLOAD, &header, &both, NOW, TOLERANCE), Ok(()));
    // And a header signed only with the old secret still passes while we hold both.
    let old_only = sign(PAYLOAD, OLD_SECRET, NOW);
    assert_eq!(verify(PAYLOAD, &old_only, &both, NOW, TOLERANCE), Ok(()));
    assert_eq!(verify(PAYLOAD, &old_only, &secrets(&[SECRET]), NOW, TOLERANCE), Err(SignatureError::Mismatch));
}

#[test]
fn wrong_secret_is_refused() {
    let header = sign(PAYLOAD, "whsec_wrong", NOW);
    assert_eq!(verify(PAYLOAD, &header, &secrets(&[SECRET]), NOW, TOLERANCE), Err(SignatureError::Mismatch));
}

#[test]
fn a_body_changed_in_one_byte_is_refused() {
    let header = sign(PAYLOAD, SECRET, NOW);
    let mut tampered = PAYLOAD.to_vec();
    let last = tampered.len() - 2;
    tampered[last] ^= 0x01;
    assert_eq!(verify(&tampered, &header, &secrets(&[SECRET]), NOW, TOLERANCE), Err(SignatureError::Mismatch));
}

#[test]
fn a_stale_timestamp_is_refused_and_a_future_one_passes() {
    let t = NOW - TOLERANCE - 1;
    let header = sign(PAYLOAD, SECRET, t);
    assert_eq!(
        verify(PAYLOAD, &header, &secrets(&[SECRET]), NOW, TOLERANCE),
        Err(SignatureError::Stale { timestamp: t, tolerance_secs: TOLERANCE })
    );
    let at_the_edge = sign(PAYLOAD, SECRET, NOW - TOLERANCE);
    assert_eq!(verify(PAYLOAD, &at_the_edge, &secrets(&[SECRET]), NOW, TOLERANCE), Ok(()));
    // One-sided, like the official library.
    let future = sign(PAYLOAD, SECRET, NOW + 3600);
    assert_eq!(verify(PAYLOAD, &future, &secrets(&[SECRET]), NOW, TOLERANCE), Ok(()));
}

#[test]
fn missing_and_malformed_headers_are_refused() {
    let s = secrets(&[SECRET]);
    assert_eq!(verify(PAYLOAD, "", &s, NOW, TOLERANCE), Err(SignatureError::MissingHeader));
    assert!(matches!(verify(PAYLOAD, "nonsense", &s, NOW, TOLERANCE), Err(SignatureError::Malformed(_))));
    let no_t = format!("v1={}", reference_hex(SECRET.as_bytes(), NOW, PAYLOAD));
    assert!(matches!(verify(PAYLOAD, &no_t, &s, NOW, TOLERANCE), Err(SignatureError::Malformed(_))));
    assert!(matches!(verify(PAYLOAD, "t=abc,v1=00", &s, NOW, TOLERANCE), Err(SignatureError::Malformed(_))));
}

#[test]
fn a_v0_only_header_is_refused() {
    let v0 = reference_hex(SECRET.as_bytes(), NOW, PAYLOAD);
    let header = format!("t={NOW},v0={v0}");
    assert_eq!(verify(PAYLOAD, &header, &secrets(&[SECRET]), NOW, TOLERANCE), Err(SignatureError::NoV1Signature));
}

#[test]
fn the_key_is_the_whole_whsec_string() {
    let without_prefix = SECRET.strip_prefix("whsec_").expect("the test secret has the prefix");
    // Signed with the whole string: the stripped key does not verify it.
    let header = sign(PAYLOAD, SECRET, NOW);
    let stripped = secrets(&[without_prefix]);
    assert_eq!(verify(PAYLOAD, &header, &stripped, NOW, TOLERANCE), Err(SignatureError::Mismatch));
    // Signed with the stripped key: the whole string does not verify it.
    let header = format!("t={NOW},v1={}", reference_hex(without_prefix.as_bytes(), NOW, PAYLOAD));
    assert_eq!(verify(PAYLOAD, &header, &secrets(&[SECRET]), NOW, TOLERANCE), Err(SignatureError::Mismatch));
}

/// A signature Stripe itself produced for a test-mode event, published in
/// odoo/odoo `addons/payment_stripe/tests/stripe_mocks.py` (header and body) with the
/// endpoint secret in `addons/payment_stripe/tests/common.py`. The timestamp is from 2020,
/// so the age check is disabled.
mod real_stripe_vector {
    use super::*;

    const SECRET: &str = "whsec_vG1fL6CMUouQ7cObF2VJprLVXT5jBLxB";
    // The `\` continuation drops the line break and the next line's indentation.
    const HEADER: &str = "t=1591264652,v1=1f0d3e035d8de956396b1d91727267fbbf483253e7702e46357b4d2bfa078ba4,\
                          v0=20d76342f4704d49f8f89db03acff7cf04afa48ca70a22d608b4649b332c1f51";
    const BODY: &str = r#"{
  "id": "evt_1GqFpHAlCFm536g8NYSLoccF",
  "object": "event",
  "api_version": "2019-05-16",
  "created": 1591264651,
  "data": {
    "object": {
      "id": "cs_test_SI8yz61JCZ4gxd7Z5oGfQSn9ZbubC6SZF3bJTxvy2PVqSd3dzbDV1kyd",
      "object": "checkout.session",
      "billing_address_collection": null,
      "cancel_url": "https://httpbin.org/post",
      "client_reference_id": null,
      "customer": "cus_HP3xLqXMIwBfTg",
      "customer_email": null,
      "display_items": [
        {
          "amount": 1500,
          "currency": "usd",
          "custom": {
            "description": "comfortable cotton t-shirt",
            "images": null,
            "name": "t-shirt"
          },
          "quantity": 2,
          "type": "custom"
        }
      ],
      "livemode": false,
      "locale": null,
      "metadata": {
      },
      "mode": "payment",
      "payment_intent": "pi_1GqFpCAlCFm536g8HsBSvSEt",
      "payment_method_types": [
        "card"
      ],
      "setup_intent": null,
      "shipping": null,
      "shipping_address_collection": null,
      "submit_type": null,
      "subscription": null,
      "success_url": "https://httpbin.org/post"
    }
  },
  "livemode": false,
  "pending_webhooks": 2,
  "request": {
    "id": null,
    "idempotency_key": null
  },
  "type": "checkout.session.completed"
}"#;

    #[test]
    fn verifies_with_the_whole_secret_and_tolerance_disabled() {
        assert_eq!(BODY.len(), 1340, "the body is byte-for-byte the published one");
        assert_eq!(verify(BODY.as_bytes(), HEADER, &secrets(&[SECRET]), 1_764_331_500, i64::MAX), Ok(()));
    }

    #[test]
    fn our_signer_reproduces_stripes_v1() {
        let v1 = HEADER.split(',').nth(1).expect("the header has a v1").to_owned();
        assert_eq!(sign(BODY.as_bytes(), SECRET, 1_591_264_652), format!("t=1591264652,{v1}"));
    }

    #[test]
    fn fails_without_the_prefix_and_when_stale() {
        let stripped = secrets(&[SECRET.strip_prefix("whsec_").expect("prefixed")]);
        assert_eq!(verify(BODY.as_bytes(), HEADER, &stripped, 0, i64::MAX), Err(SignatureError::Mismatch));
        let now = 1_764_331_500;
        assert!(matches!(
            verify(BODY.as_bytes(), HEADER, &secrets(&[SECRET]), now, TOLERANCE),
            Err(SignatureError::Stale { timestamp: 1_591_264_652, .. })
        ));
    }

    #[test]
    fn parses_as_a_completed_event_without_a_reservation() {
        use qskip::stripe::event::{IgnoreReason, WebhookAction, action_for_payload};
        let action = action_for_payload(BODY.as_bytes()).expect("Stripe's own event parses");
        assert_eq!(action, WebhookAction::Ignore(IgnoreReason::NoReservationId));
    }
}
