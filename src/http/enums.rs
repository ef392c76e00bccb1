//! The API's string enums: a reservation's status and a refund's reason. Each is the
//! domain's enum itself, written as the domain's string for it (`as_str`, the one place
//! those strings are defined) and documented as the list of every such string
//! (`ALL`). So the document, the JSON and the domain cannot disagree, and the domain
//! stays free of serde and utoipa.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain;

/// Declares `$json`, the JSON form of the domain enum `$domain`: serialised as
/// `$domain::as_str`, documented under the schema name `$name` as `$domain::ALL`.
macro_rules! string_enum_json {
    ($(#[$doc:meta])* $json:ident, $domain:ty, $name:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $json(pub $domain);

        impl Serialize for $json {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.0.as_str())
            }
        }

        impl PartialSchema for $json {
            fn schema() -> RefOr<Schema> {
                string_enum($description, <$domain>::ALL.map(<$domain>::as_str))
            }
        }

        impl ToSchema for $json {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_enum_json!(
    /// Where a reservation stands, as JSON.
    ReservationStatusJson,
    domain::ReservationStatus,
    "ReservationStatus",
    "Where a reservation stands (the strings of `domain::ReservationStatus`)."
);

string_enum_json!(
    /// Why a payment is refunded, as JSON.
    RefundReasonJson,
    domain::RefundReason,
    "RefundReason",
    "Why a payment is refunded (the strings of `domain::RefundReason`)."
);

/// A string schema that takes exactly `values`.
fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .build()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::RefundReason as R;
    use domain::ReservationStatus as S;

    /// `ALL` is what gets documented, so it must hold every variant. The matches are
    /// exhaustive: a new variant does not compile here until it is checked as well.
    #[test]
    fn all_holds_every_variant() {
        let listed = |status: S| match status {
            S::Held | S::Confirmed | S::Expired | S::Cancelled | S::RefundOwed | S::Refunded | S::Waitlisted => {
                S::ALL.contains(&status)
            }
        };
        let every = [S::Held, S::Confirmed, S::Expired, S::Cancelled, S::RefundOwed, S::Refunded, S::Waitlisted];
        assert!(every.into_iter().all(listed));
        let listed = |reason: R| match reason {
            R::SoldOut | R::WindowEnded | R::AlreadyConfirmed | R::AmountMismatch => R::ALL.contains(&reason),
        };
        assert!([R::SoldOut, R::WindowEnded, R::AlreadyConfirmed, R::AmountMismatch].into_iter().all(listed));
    }

    /// The document lists, under the schema names the response types refer to, exactly
    /// the domain's strings.
    #[test]
    fn the_document_lists_the_domain_strings() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::http::openapi::openapi_json_text()).expect("the document is JSON");
        let values = |schema: &str| doc["components"]["schemas"][schema]["enum"].clone();
        assert_eq!(values("ReservationStatus"), serde_json::json!(S::ALL.map(S::as_str)));
        assert_eq!(values("RefundReason"), serde_json::json!(R::ALL.map(R::as_str)));
        let status = &doc["components"]["schemas"]["ReservationJson"]["properties"]["status"]["$ref"];
        assert_eq!(status, "#/components/schemas/ReservationStatus");
    }

    #[test]
    fn the_json_is_the_domain_string() {
        for status in S::ALL {
            let json = serde_json::to_value(ReservationStatusJson(status)).expect("a string");
            assert_eq!(json, status.as_str());
        }
        for reason in R::ALL {
            assert_eq!(serde_json::to_value(RefundReasonJson(reason)).expect("a string"), reason.as_str());
        }
    }
}
