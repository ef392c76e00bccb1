//! The payment side that talks to Stripe: workers that carry out what the window
//! actors decided. Window actors never call Stripe; these workers do, and report the
//! outcome back as a message, so every outcome is an event decided in one place.
//!
//! Module map: [`checkout`] (reserve = hold + Checkout Session), [`refunds`] (issues
//! every refund owed, resumes after restarts), [`session_expiry`] (closes the checkout
//! pages of holds that ended).

mod backoff;
pub mod checkout;
pub mod refund_plan;
pub mod refunds;
pub mod session_expiry;

pub use checkout::{CheckoutError, CheckoutService};
pub use refunds::RefundWorker;
pub use session_expiry::SessionExpiryWorker;
