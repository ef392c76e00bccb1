//! Offer e-mails (issue 13): a queued customer learns that slots were offered to it
//! without polling.
//!
//! The [`Notifier`] is a background task beside the actors, like the payment workers:
//! it reads `WaitlistOffered` records from the log once they are durable, and mails the
//! offer ([`mail`]) through SMTP ([`mailer`]) or, without SMTP and with dev payments,
//! into the in-memory [`outbox::DevOutbox`] shown at `/dev/outbox`. An actor never
//! waits for it: the worker only reads the log and asks for reservations, so a slow or
//! down SMTP server slows no reservation.
//!
//! Delivery is **at least once** per offer that is still open when its turn comes: what
//! was mailed is recorded in a small [`ledger`] beside the log, after the server
//! accepted the message; a crash between the two sends the mail again after restart.

pub mod ledger;
pub mod mail;
pub mod mailer;
pub mod outbox;
mod worker;

pub use mailer::Mailer;
pub use outbox::DevOutbox;
pub use worker::Notifier;

/// Offer e-mails by outcome: `sent`, `failed_attempt` (will retry), `gave_up` (after
/// `NOTIFY_ATTEMPTS_MAX`), `skipped` (no e-mail, offer no longer open, bad address).
pub const NOTIFY_MAILS: &str = "qskip_notify_mails_total";

fn count(venue: &str, outcome: &'static str) {
    metrics::counter!(NOTIFY_MAILS, "venue" => venue.to_owned(), "outcome" => outcome).increment(1);
}
