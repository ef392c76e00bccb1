//! The concurrency shell around the pure domain: window actors and what they need.
//! Services (`crate::service`) reach them only through `service::Windows`.
//!
//! Module map:
//! - [`window_actor`]: one actix actor per (venue, window); decides, applies, persists
//!   through the journal and replies only once durable.
//! - [`messages`]: what a window actor answers, and its error type.
//! - [`registry`]: finds or starts window actors, spread over one arbiter per core.
//! - [`live_hub`]: the hub window actors publish durable counts to (SSE streams);
//!   [`live_outbox`] holds them in the actor until durable; [`activity`] keeps recent
//!   refusals, late payments and refunds per venue for the admin dashboard.
//! - [`prices`]: every venue's price history, which prices each reservation's view.
//! - [`read_view`]: durable window counts for availability reads, written by the actors.

pub mod activity;
pub mod live_hub;
pub mod live_outbox;
pub mod messages;
pub mod prices;
pub mod read_view;
pub mod registry;
pub mod window_actor;

pub use registry::Registry;
pub use window_actor::WindowActor;

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::{EventLog, Journal};

/// What every window actor needs: where to read, where to write, what time it is.
#[derive(Clone)]
pub struct Shared {
    pub log: EventLog,
    pub journal: Journal,
    pub clock: Arc<dyn Clock>,
    /// Idle time after which the actor of a finished window stops (passivation).
    pub actor_idle: std::time::Duration,
    /// Where window actors publish durable counts for live streams.
    pub live: live_hub::LiveHub,
    /// Recent notable outcomes per venue, for the admin dashboard.
    pub activity: activity::ActivityLog,
    /// Every venue's price history: a reservation's view carries its amount.
    pub prices: prices::PriceBook,
    /// Where window actors leave their durable counts for availability reads.
    pub view: read_view::ReadView,
    /// Passivation checks completed by all window actors: a test waits for the next
    /// check instead of sleeping through an idle interval of the wall clock.
    pub passivation_checks: Arc<std::sync::atomic::AtomicU64>,
}
