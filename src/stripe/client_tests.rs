//! Unit tests of the client's pure parts (the HTTP behaviour is tested in `tests/it/stripe_client.rs`).

use super::*;

#[test]
fn debug_output_never_shows_the_secret_key() {
    let config = ClientConfig::new(secrecy::SecretString::from("sk_test_do_not_print_me"));
    let client = StripeClient::new(config.clone()).expect("the default config builds");
    assert!(!format!("{config:?}").contains("do_not_print_me"));
    assert!(!format!("{client:?}").contains("do_not_print_me"));
    assert!(format!("{client:?}").contains("REDACTED"));
}

#[test]
fn urls_join_segments_under_the_base_path() {
    let mut config = ClientConfig::new(secrecy::SecretString::from("sk_test_x"));
    config.api_base = "http://127.0.0.1:9/stripe/".into();
    let client = StripeClient::new(config).expect("a local base builds");
    let url = client.url(&["v1", "checkout", "sessions", "cs_1", "expire"]);
    assert_eq!(url.as_str(), "http://127.0.0.1:9/stripe/v1/checkout/sessions/cs_1/expire");
}

#[test]
fn rejects_bad_keys_and_ids_before_sending() {
    assert!(check_idempotency_key("res_42:checkout:v1").is_ok());
    assert!(check_idempotency_key("").is_err());
    assert!(check_idempotency_key(&"k".repeat(256)).is_err());
    assert!(check_idempotency_key("has space").is_err());
    assert!(object_id("cs_test_a1B2", "session id").is_ok());
    assert!(object_id("cs_1/../refunds", "session id").is_err());
    assert!(object_id("", "session id").is_err());
}
