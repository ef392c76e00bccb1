//! The parts of Stripe's API objects that qskip reads (spec-2023 `checkout.session`,
//! `refund`). Unknown fields are ignored: Stripe adds fields without a new API version.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A Checkout Session as the API returns it (create, expire, retrieve).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckoutSession {
    /// `cs_test_…` / `cs_live_…`.
    pub id: String,
    /// The hosted payment page; null once the session is complete or expired.
    #[serde(default)]
    pub url: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// Null until the customer confirms: since API 2022-08-01 the PaymentIntent is
    /// created at confirmation, not with the session.
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// A refund (`re_…`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    pub id: String,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "expandable_id")]
    pub payment_intent: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// One page of a list endpoint.
#[derive(Debug, Deserialize)]
pub(crate) struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// An expandable reference: an id string, an expanded object with an `id`, or null.
pub(crate) fn expandable_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Expandable {
        Id(String),
        Object { id: String },
    }
    Ok(Option::<Expandable>::deserialize(deserializer)?.map(|e| match e {
        Expandable::Id(id) | Expandable::Object { id } => id,
    }))
}

/// A nullable string map (`metadata`), null read as empty.
pub(crate) fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_session_has_no_payment_intent_and_extra_fields_are_ignored() {
        let json = r#"{"id":"cs_test_1","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_1",
            "expires_at":1700001860,"status":"open","payment_status":"unpaid","payment_intent":null,
            "client_reference_id":"res_42","amount_total":3000,"currency":"eur","brand_new_field":{"x":1}}"#;
        let session: CheckoutSession = serde_json::from_str(json).expect("a session decodes");
        assert_eq!(session.id, "cs_test_1");
        assert_eq!(session.payment_intent, None);
        assert_eq!(session.url.as_deref(), Some("https://checkout.stripe.com/c/pay/cs_test_1"));
    }

    #[test]
    fn an_expanded_payment_intent_gives_its_id() {
        let json = r#"{"id":"re_1","status":"succeeded","payment_intent":{"id":"pi_1","object":"payment_intent"},"metadata":null}"#;
        let refund: Refund = serde_json::from_str(json).expect("a refund decodes");
        assert_eq!(refund.payment_intent.as_deref(), Some("pi_1"));
        assert!(refund.metadata.is_empty());
    }
}
