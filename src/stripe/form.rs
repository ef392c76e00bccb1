//! The form encoding of Stripe's v1 API, as stripe-python's `_api_encode` writes it.
//!
//! Parameters form a tree ([`Param`]); [`Form::encode`] flattens it into
//! `application/x-www-form-urlencoded` pairs: arrays are always indexed
//! (`line_items[0][quantity]=1`), maps are bracketed (`metadata[reservation_id]=…`),
//! booleans are `true`/`false`, and a [`Param::Null`] is omitted. The output depends
//! only on the input order, never on a hash map's, so the same parameters always give
//! the same bytes: a retried request with the same `Idempotency-Key` must be identical,
//! or Stripe answers `idempotency_error`.

/// One parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Omitted from the form (the `None` of the official library).
    Null,
    /// Encoded with indexes: `key[0]`, `key[1]`, …
    List(Vec<Param>),
    /// Encoded with brackets, in this order: `key[a]`, `key[b]`, …
    Map(Vec<(String, Param)>),
}

impl Param {
    pub fn str(value: impl Into<String>) -> Self {
        Self::Str(value.into())
    }

    /// `Some(text)` as a string, `None` omitted.
    pub fn opt_str(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Null, |v| Self::Str(v.into()))
    }

    /// A map from `(key, value)` pairs, kept in the given order.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Param)>) -> Self {
        Self::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Self::Str(value.to_owned())
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Str(value)
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<u32> for Param {
    fn from(value: u32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

/// A flattened form: ordered `(key, value)` pairs, ready to encode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Flattens top-level parameters, in order.
    pub fn from_params<K: AsRef<str>>(params: impl IntoIterator<Item = (K, Param)>) -> Self {
        let mut form = Self::default();
        for (key, value) in params {
            form.flatten(key.as_ref().to_owned(), &value);
        }
        form
    }

    fn flatten(&mut self, key: String, value: &Param) {
        match value {
            Param::Str(text) => self.pairs.push((key, text.clone())),
            Param::Int(n) => self.pairs.push((key, n.to_string())),
            Param::Bool(b) => self.pairs.push((key, b.to_string())),
            Param::Null => {}
            Param::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.flatten(format!("{key}[{index}]"), item);
                }
            }
            Param::Map(entries) => {
                for (name, item) in entries {
                    self.flatten(format!("{key}[{name}]"), item);
                }
            }
        }
    }

    /// The flattened pairs, unencoded.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// `application/x-www-form-urlencoded` text: `*-._` and alphanumerics stay, a space
    /// becomes `+`, every other byte (brackets included, as Python's `urlencode` does)
    /// becomes `%XX`.
    pub fn encode(&self) -> String {
        serde_urlencoded::to_string(&self.pairs).expect("string pairs always form-encode")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(form: &Form) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&form.encode()).expect("our own encoding decodes")
    }

    #[test]
    fn nested_lists_and_maps_use_indexes_and_brackets() {
        let form = Form::from_params([
            (
                "line_items",
                Param::List(vec![
                    Param::map([
                        ("price_data", Param::map([("currency", Param::str("eur"))])),
                        ("quantity", 2u32.into()),
                    ]),
                    Param::map([("quantity", 1u32.into())]),
                ]),
            ),
            ("metadata", Param::map([("reservation_id", Param::str("res_42"))])),
            ("payment_intent_data", Param::map([("metadata", Param::map([("reservation_id", Param::str("res_42"))]))])),
        ]);
        let expected = [
            ("line_items[0][price_data][currency]", "eur"),
            ("line_items[0][quantity]", "2"),
            ("line_items[1][quantity]", "1"),
            ("metadata[reservation_id]", "res_42"),
            ("payment_intent_data[metadata][reservation_id]", "res_42"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(form.pairs(), expected.as_slice());
        assert_eq!(decoded(&form), expected);
    }

    #[test]
    fn booleans_are_words_and_null_is_omitted() {
        let form = Form::from_params([
            ("a", Param::Bool(true)),
            ("b", Param::Bool(false)),
            ("c", Param::Null),
            ("d", Param::opt_str(None::<String>)),
            ("e", Param::Int(-3)),
            ("f", Param::List(vec![])),
        ]);
        assert_eq!(form.encode(), "a=true&b=false&e=-3");
    }

    #[test]
    fn percent_encodes_templates_spaces_and_brackets() {
        let form = Form::from_params([
            ("success_url", Param::str("https://example.test/ok?session_id={CHECKOUT_SESSION_ID}")),
            ("line_items", Param::List(vec![Param::map([("name", Param::str("Queue skip 10:30 & más"))])])),
        ]);
        assert_eq!(
            form.encode(),
            "success_url=https%3A%2F%2Fexample.test%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D\
             &line_items%5B0%5D%5Bname%5D=Queue+skip+10%3A30+%26+m%C3%A1s"
        );
    }

    #[test]
    fn encoding_is_deterministic_and_keeps_input_order() {
        let build =
            || Form::from_params([("z", Param::str("1")), ("a", Param::map([("y", 1i64.into()), ("b", 2i64.into())]))]);
        assert_eq!(build().encode(), "z=1&a%5By%5D=1&a%5Bb%5D=2");
        assert_eq!(build().encode().as_bytes(), build().encode().as_bytes());
    }
}
