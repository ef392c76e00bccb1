//! The use cases adapters call (HTTP handlers, payment workers, start-up), one small
//! service each. None holds window state: every decision is a window's, reached
//! through [`Windows`].
//!
//! Module map:
//! - [`reservations`]: a customer's holds: reserve, read, cancel; the
//!   `Idempotency-Key` contract; the per-client cap on unpaid holds ([`client_holds`]).
//! - [`payment_records`]: what the payment provider reports (payments, refunds,
//!   checkout pages opened and closed), recorded in the reservation's window.
//! - [`operator`]: the admin side: venue changes, window listings, releasing holds by
//!   hand, recent activity.
//! - [`availability`]: counts of a venue's windows over a range, and live streams.
//! - [`recovery`]: starting recovered windows at start-up; the state digest.
//! - Shared core: [`windows`] (window addressing: the one way to reach a window, and
//!   the seam for forwarding to another node in cluster mode), [`venues`] (the venue
//!   catalogue), [`error`] (the one error type).

pub mod availability;
pub mod client_holds;
pub mod error;
pub mod in_flight;
pub mod operator;
pub mod payment_records;
pub mod recovery;
pub mod reservations;
pub mod venues;
pub mod windows;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use availability::Availability;
pub use client_holds::{Client, ClientHolds};
pub use error::ServiceError;
pub use operator::Operator;
pub use payment_records::PaymentRecords;
pub use recovery::Recovery;
pub use reservations::Reservations;
pub use venues::Venues;
pub use windows::Windows;

use crate::actors::{Registry, Shared};
use crate::clock::Clock;
use crate::store::EventLog;

/// Every service, wired once at start-up. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Services {
    pub venues: Venues,
    pub reservations: Reservations,
    pub payments: PaymentRecords,
    pub operator: Operator,
    pub availability: Availability,
    pub recovery: Recovery,
    pub windows: Windows,
    log: EventLog,
    clock: Arc<dyn Clock>,
}

impl Services {
    pub fn new(
        shared: Shared,
        registry: Registry,
        venues: Venues,
        sales_horizon_days: u32,
        client_holds: Option<ClientHolds>,
    ) -> Self {
        let Shared { log, journal, clock, live, activity, view, .. } = shared;
        let windows = Windows::new(registry, venues.clone(), log.clone());
        let availability = Availability::new(windows.clone(), clock.clone(), live, view);
        Self {
            reservations: Reservations::new(
                windows.clone(),
                log.clone(),
                clock.clone(),
                sales_horizon_days,
                client_holds,
            ),
            payments: PaymentRecords::new(windows.clone(), venues.clone()),
            operator: Operator::new(
                windows.clone(),
                venues.clone(),
                journal,
                clock.clone(),
                availability.clone(),
                activity,
            ),
            recovery: Recovery::new(windows.clone(), venues.clone()),
            availability,
            venues,
            windows,
            log,
            clock,
        }
    }

    /// Sets how long a waitlist offer stays open (`waitlist_offer_secs`).
    pub fn with_waitlist_offer_secs(mut self, secs: u32) -> Self {
        self.reservations.waitlist_offer_secs = secs;
        self
    }

    /// The service's current time (the injected clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The event log, for reads that need no window (e.g. refunds owed, open
    /// checkout pages).
    pub fn log(&self) -> &EventLog {
        &self.log
    }
}
