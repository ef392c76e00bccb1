//! The payment side that talks to Stripe: workers that carry out what the window
//! actors decided. Window actors never call Stripe; these workers do, and report the
//! outcome back as a message, so every outcome is an event decided in one place.
//!
//! Module map: [`refunds`] (issues every refund owed, resumes after restarts).

pub mod refunds;

pub use refunds::RefundWorker;
