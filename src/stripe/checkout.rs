//! The Checkout Session request (`POST /v1/checkout/sessions`): typed parameters, their
//! form, and the `expires_at` rule.
//!
//! Stripe refuses an `expires_at` less than 30 minutes after the session's creation, and
//! the session is created after the hold starts, so a 30-minute hold cannot simply pass its
//! own expiry. [`session_expires_at`] gives the session a little longer; our own timer
//! enforces the hold and expires the session through the API (STRIPE.md 1.1).

use chrono::{DateTime, Utc};

use super::form::{Form, Param};
use super::{
    CLIENT_REFERENCE_ID_LEN_MAX, SESSION_EXPIRY_MARGIN_SECS, SESSION_EXPIRY_MAX_SECS, SESSION_EXPIRY_MIN_SECS,
};

/// Everything qskip sends to create a Checkout Session for one reservation.
///
/// Persist it (or at least `expires_at`) with the idempotency key: a retry must send the
/// very same parameters, so `expires_at` must not be recomputed from a later `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSessionParams {
    /// Where Stripe sends the customer after paying; may contain the literal
    /// `{CHECKOUT_SESSION_ID}` template, which Stripe fills in.
    pub success_url: String,
    pub cancel_url: String,
    /// ISO 4217 code; sent lowercase as Stripe requires.
    pub currency: String,
    /// Price of one queue skip, in minor units.
    pub unit_amount: u64,
    pub quantity: u32,
    /// Shown on the checkout page, e.g. "Queue skip 10:30".
    pub product_name: String,
    /// Sent as `client_reference_id`, `metadata[reservation_id]` and
    /// `payment_intent_data[metadata][reservation_id]`, so the session, its webhooks and
    /// the PaymentIntent (refunds, Dashboard) all name the reservation.
    pub reservation_id: String,
    /// Unix seconds; see [`session_expires_at`].
    pub expires_at: i64,
}

/// Parameters Stripe would reject, caught before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidParams {
    #[error("currency must be a 3-letter ISO code, got {0:?}")]
    Currency(String),
    #[error("quantity must be at least 1")]
    Quantity,
    #[error("unit_amount {0} does not fit Stripe's integer")]
    UnitAmount(u64),
    #[error("amount {0} does not fit Stripe's integer")]
    Amount(u64),
    #[error("reservation id must be 1..={max} characters", max = CLIENT_REFERENCE_ID_LEN_MAX)]
    ReservationId,
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

impl CheckoutSessionParams {
    pub fn validate(&self) -> Result<(), InvalidParams> {
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(InvalidParams::Currency(self.currency.clone()));
        }
        if self.quantity == 0 {
            return Err(InvalidParams::Quantity);
        }
        if i64::try_from(self.unit_amount).is_err() {
            return Err(InvalidParams::UnitAmount(self.unit_amount));
        }
        let id_len = self.reservation_id.chars().count();
        if id_len == 0 || id_len > CLIENT_REFERENCE_ID_LEN_MAX {
            return Err(InvalidParams::ReservationId);
        }
        for (name, value) in
            [("success_url", &self.success_url), ("cancel_url", &self.cancel_url), ("product_name", &self.product_name)]
        {
            if value.is_empty() {
                return Err(InvalidParams::Empty(name));
            }
        }
        Ok(())
    }

    /// The request form. Call [`validate`](Self::validate) first: the form carries the
    /// values as given (an out-of-range `unit_amount` is clamped, never wrapped).
    pub fn to_form(&self) -> Form {
        let unit_amount = i64::try_from(self.unit_amount).unwrap_or(i64::MAX);
        let reservation = || Param::map([("reservation_id", Param::str(&self.reservation_id))]);
        let price_data = Param::map([
            ("currency", Param::str(self.currency.to_ascii_lowercase())),
            ("unit_amount", Param::Int(unit_amount)),
            ("product_data", Param::map([("name", Param::str(&self.product_name))])),
        ]);
        let line_item = Param::map([("price_data", price_data), ("quantity", self.quantity.into())]);
        Form::from_params([
            ("mode", Param::str("payment")),
            ("success_url", Param::str(&self.success_url)),
            ("cancel_url", Param::str(&self.cancel_url)),
            ("line_items", Param::List(vec![line_item])),
            ("client_reference_id", Param::str(&self.reservation_id)),
            ("metadata", reservation()),
            ("payment_intent_data", Param::map([("metadata", reservation())])),
            ("expires_at", Param::Int(self.expires_at)),
        ])
    }
}

/// The `expires_at` (Unix seconds) of a Checkout Session created at `now` for a hold that
/// ends at `hold_expires_at`: `max(hold_expires_at, now + 31 min)`.
///
/// Why not the hold's own expiry: Stripe rejects `expires_at` earlier than 30 minutes
/// after the session's creation, and the session is created after the hold started, so
/// with a 30-minute hold that value is always too early. The extra minute
/// ([`SESSION_EXPIRY_MARGIN_SECS`]) covers our own retries and clock skew. The result is
/// also kept below Stripe's 24-hour maximum. Consequence: the checkout page can stay
/// payable after the hold ended, so the caller expires the session itself and treats a
/// late payment as a normal case (confirm if room, else refund).
pub fn session_expires_at(hold_expires_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let now = now.timestamp();
    let earliest = now + SESSION_EXPIRY_MIN_SECS + SESSION_EXPIRY_MARGIN_SECS;
    let latest = now + SESSION_EXPIRY_MAX_SECS - SESSION_EXPIRY_MARGIN_SECS;
    // Round the hold up: the session must never end before the hold does.
    let hold = hold_expires_at.timestamp() + i64::from(hold_expires_at.timestamp_subsec_micros() > 0);
    hold.max(earliest).min(latest)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).expect("test times are valid RFC 3339").with_timezone(&Utc)
    }

    fn params() -> CheckoutSessionParams {
        CheckoutSessionParams {
            success_url: "https://example.test/ok?session_id={CHECKOUT_SESSION_ID}".into(),
            cancel_url: "https://example.test/cancel".into(),
            currency: "EUR".into(),
            unit_amount: 1500,
            quantity: 2,
            product_name: "Queue skip 10:30".into(),
            reservation_id: "res_42".into(),
            expires_at: 1_700_001_860,
        }
    }

    #[test]
    fn a_fresh_30_minute_hold_gets_now_plus_31_minutes() {
        let now = at("2026-11-28T12:05:10Z");
        let hold = now + Duration::minutes(30) - Duration::seconds(2);
        assert_eq!(session_expires_at(hold, now), now.timestamp() + 31 * 60);
    }

    #[test]
    fn a_longer_hold_keeps_its_own_expiry_rounded_up() {
        let now = at("2026-11-28T12:05:10Z");
        let hold = at("2026-11-28T13:00:00.250Z");
        assert_eq!(session_expires_at(hold, now), at("2026-11-28T13:00:01Z").timestamp());
    }

    #[test]
    fn an_expiry_is_kept_below_stripes_24_hour_maximum() {
        let now = at("2026-11-28T12:00:00Z");
        let hold = now + Duration::hours(30);
        assert_eq!(session_expires_at(hold, now), now.timestamp() + 24 * 3600 - SESSION_EXPIRY_MARGIN_SECS);
    }

    #[test]
    fn form_carries_every_field_with_lowercase_currency() {
        let pairs = params().to_form().pairs().to_vec();
        let expected = [
            ("mode", "payment"),
            ("success_url", "https://example.test/ok?session_id={CHECKOUT_SESSION_ID}"),
            ("cancel_url", "https://example.test/cancel"),
            ("line_items[0][price_data][currency]", "eur"),
            ("line_items[0][price_data][unit_amount]", "1500"),
            ("line_items[0][price_data][product_data][name]", "Queue skip 10:30"),
            ("line_items[0][quantity]", "2"),
            ("client_reference_id", "res_42"),
            ("metadata[reservation_id]", "res_42"),
            ("payment_intent_data[metadata][reservation_id]", "res_42"),
            ("expires_at", "1700001860"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn validation_catches_what_stripe_would_reject() {
        assert_eq!(params().validate(), Ok(()));
        let bad = |edit: fn(&mut CheckoutSessionParams)| {
            let mut p = params();
            edit(&mut p);
            p.validate().expect_err("edited params are invalid")
        };
        assert_eq!(bad(|p| p.currency = "euro".into()), InvalidParams::Currency("euro".into()));
        assert_eq!(bad(|p| p.quantity = 0), InvalidParams::Quantity);
        assert_eq!(bad(|p| p.unit_amount = u64::MAX), InvalidParams::UnitAmount(u64::MAX));
        assert_eq!(bad(|p| p.reservation_id = "x".repeat(201)), InvalidParams::ReservationId);
        assert_eq!(bad(|p| p.cancel_url.clear()), InvalidParams::Empty("cancel_url"));
    }
}
