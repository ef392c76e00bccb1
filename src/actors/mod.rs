//! The concurrency shell around the pure domain.
//!
//! Module map:
//! - [`window_actor`]: one actix actor per (venue, window); decides, applies, persists
//!   through the journal and replies only once durable.
//! - [`registry`]: finds or starts window actors, spread over one arbiter per core.
//! - [`booking`]: the facade adapters call: validates requests, resolves windows,
//!   handles `Idempotency-Key`, and talks to window actors with timeouts.
//! - [`availability`]: counts of a venue's windows over a range.
//! - [`admin`]: the operator side of the facade: venue changes, window listings,
//!   releasing holds by hand.
//! - [`venues`]: the venues known to the service, loaded from and seeded into the log,
//!   and changed by operators.
//! - `recovered`: starting recovered windows' actors with their state, and the state
//!   digest over every window's actor.
//! - [`live`]: the live hub window actors publish durable counts to (SSE streams);
//!   [`live_outbox`] holds them in the actor until durable; [`activity`] keeps recent
//!   refusals, late payments and refunds per venue for the admin dashboard.

pub mod activity;
pub mod admin;
pub mod availability;
pub mod booking;
pub mod client_holds;
pub mod in_flight;
pub mod live;
pub mod live_outbox;
pub mod live_snapshot;
pub mod messages;
pub mod payments;
mod recovered;
pub mod registry;
pub mod venues;
pub mod window_actor;

pub use booking::{Booking, BookingError};
pub use client_holds::{Client, ClientHolds};
pub use registry::Registry;
pub use venues::Venues;
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
    pub live: live::LiveHub,
    /// Recent notable outcomes per venue, for the admin dashboard.
    pub activity: activity::ActivityLog,
}
