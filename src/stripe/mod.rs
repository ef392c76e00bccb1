//! Stripe adapter building blocks: everything qskip must get exactly right when it talks to
//! Stripe, kept free of actors and HTTP handlers so each rule is tested on its own.
//!
//! The rules come from `shared/STRIPE.md` (Stripe's OpenAPI spec, the official
//! stripe-python library and Stripe's docs). The modules:
//! - [`form`]: the form encoding Stripe's v1 API expects (indexed arrays, bracketed maps).
//! - [`checkout`]: the typed Checkout Session request and its `expires_at` rule.
//! - [`client`]: the outgoing API client (timeouts, idempotency keys, retries).
//! - [`error`]: the typed errors of the API client, mapped from Stripe's error body.
//! - [`objects`]: the fields of Stripe's API objects (session, refund) that qskip reads.
//! - [`retry`]: the retry policy of the official client (which answers to retry, backoff).
//! - [`signature`]: `Stripe-Signature` webhook verification (and signing, for tests).
//! - [`event`]: webhook event parsing and the decision table that turns an event into
//!   an action for the window actor.
//!
//! Who uses them: the payments side (`crate::payments`: checkout, refund and
//! session-expiry workers) owns a [`StripeClient`]; the webhook handler
//! (`http::webhook`) calls [`signature::verify`] then [`event::action_for_payload`].
//! Nothing here knows actors or HTTP handlers.

pub mod checkout;
pub mod client;
pub mod error;
pub mod event;
pub mod form;
pub mod objects;
pub mod retry;
pub mod signature;

pub use checkout::{CheckoutSessionParams, InvalidParams, session_expires_at};
pub use client::{ClientConfig, StripeClient};
pub use error::StripeError;
pub use event::{CheckoutSessionObject, Event, EventError, IgnoreReason, SessionEvent, WebhookAction};
pub use objects::{CheckoutSession, Refund};
pub use retry::RetryPolicy;
pub use signature::SignatureError;

/// Default base URL of Stripe's API.
pub const API_BASE_DEFAULT: &str = "https://api.stripe.com";

/// Longest `client_reference_id` Stripe accepts, in characters (spec-2023 `maxLength: 200`).
pub const CLIENT_REFERENCE_ID_LEN_MAX: usize = 200;

/// Shortest time between creating a Checkout Session and its `expires_at`, in seconds.
/// Stripe rejects anything earlier with a 400 (spec-2023: "30 minutes to 24 hours").
pub const SESSION_EXPIRY_MIN_SECS: i64 = 30 * 60;

/// Longest time between creating a Checkout Session and its `expires_at`, in seconds.
pub const SESSION_EXPIRY_MAX_SECS: i64 = 24 * 60 * 60;

/// Margin added to [`SESSION_EXPIRY_MIN_SECS`] when we compute `expires_at`, in seconds.
/// It covers the time between computing the value and Stripe creating the session: our
/// own retries (see the assertion in [`client`]) and clock skew between us and Stripe.
pub const SESSION_EXPIRY_MARGIN_SECS: i64 = 60;

/// Default tolerance of a webhook signature's timestamp, in seconds. stripe-python's
/// `Webhook.DEFAULT_TOLERANCE` is 300; Stripe re-signs every delivery attempt, so an old
/// event redelivered still carries a fresh timestamp.
pub const SIGNATURE_TOLERANCE_SECS_DEFAULT: i64 = 300;

/// How many refunds one `list_refunds` call asks for: Stripe's maximum page size.
/// A reservation is refunded at most a handful of times, so one page is all of them.
pub const REFUNDS_PAGE_LIMIT: u32 = 100;
