//! Integration tests: one test binary (each `tests/*.rs` would be a separate link).
//!
//! Module map: `helpers` (spawn_app on a random port with real sled in a temp dir, and
//! the real binary for crash tests), then one module per area.

mod browser;
mod helpers;
mod stripe_fake;

mod admin;
mod admin_activity;
mod api_bad_input;
mod api_dev_pay;
mod api_idempotency;
mod api_race;
mod api_scenarios;
mod backup;
mod backup_archive;
// Cluster mode is built only with the `cluster` feature (the README's test command
// and .ci/run turn it on).
#[cfg(feature = "cluster")]
mod cluster;
#[cfg(feature = "cluster")]
mod cluster_start;
mod crash_restart;
mod deploy;
mod domain_dst;
mod domain_props;
mod event_fixtures;
mod failure_paths;
mod fuzz_corpus;
mod hostile_connections;
mod hostile_input;
mod limits;
mod live_limits;
mod live_state;
mod live_stream;
mod log_integrity;
mod metrics;
mod notify;
mod openapi;
mod pages_admin;
mod pages_booking;
mod passivation;
mod recovering;
mod refund_settlement;
mod replay_tool;
mod secrets_in_logs;
mod sim;
mod snapshot_fixtures;
mod snapshot_history;
mod snapshot_recovery;
mod snapshot_restart;
mod stripe_checkout;
mod stripe_client;
mod stripe_signature;
mod stripe_webhook;
mod stripe_webhook_matrix;
mod waitlist;
