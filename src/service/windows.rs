//! Window addressing: the one way a service reaches a window. Services name a window
//! (a [`WindowKey`]) or a reservation and a message; [`Windows`] finds who owns that
//! window, delivers the message with a timeout and turns the window's error into a
//! [`ServiceError`].
//!
//! Today every window is owned by this process: its actor is found or started in the
//! [`Registry`]. This is the seam for cluster mode: here a message for a window whose
//! venue another node owns would be forwarded to that node, and no service or HTTP
//! handler would change, because none of them ever holds an actor address. Requests
//! that name only a reservation (by id: the reservation API, Stripe webhooks) find
//! their window, and so their owner, in one place too: [`Windows::window_of`].

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix::{Addr, Handler, MailboxError, Message};
use chrono::{DateTime, Utc};

use super::{ServiceError, Venues};
use crate::actors::messages::{Execute, WindowError};
use crate::actors::{Registry, WindowActor};
use crate::domain::{Command, ReservationId, ReservationView, VenueId, Window, WindowKey};
use crate::limits::ACTOR_REPLY_TIMEOUT_MS;
use crate::store::EventLog;
use crate::telemetry;

/// Cheap to clone: every clone addresses the same windows.
#[derive(Clone)]
pub struct Windows {
    registry: Arc<Registry>,
    venues: Venues,
    log: EventLog,
}

impl Windows {
    pub fn new(registry: Registry, venues: Venues, log: EventLog) -> Self {
        Self { registry: Arc::new(registry), venues, log }
    }

    /// Sends `msg` to the window `key`, starting its actor if needed. A full mailbox or
    /// a slow actor is `Busy`; a timeout after the actor took the message leaves the
    /// outcome unknown, so every command is safe to retry.
    pub async fn ask<M, T>(&self, key: &WindowKey, msg: M) -> Result<T, ServiceError>
    where
        M: Message<Result = Result<T, WindowError>> + Send + 'static,
        T: Send + 'static,
        WindowActor: Handler<M>,
    {
        let timeout = StdDuration::from_millis(ACTOR_REPLY_TIMEOUT_MS);
        let answer = self.actor(key)?.send(msg).timeout(timeout).await.map_err(|e| match e {
            MailboxError::Timeout => {
                telemetry::record_mailbox_timeout();
                ServiceError::Busy
            }
            MailboxError::Closed => stopped(),
        })?;
        Ok(answer?)
    }

    /// Like [`Windows::ask`], but `None` for a window with neither events nor a running
    /// actor: its answer follows from its schedule alone, so no actor is started.
    pub async fn ask_opened<M, T>(&self, key: &WindowKey, msg: M) -> Result<Option<T>, ServiceError>
    where
        M: Message<Result = Result<T, WindowError>> + Send + 'static,
        T: Send + 'static,
        WindowActor: Handler<M>,
    {
        if self.registry.live_window(key).is_none() && !self.log.window_exists(key)? {
            return Ok(None);
        }
        self.ask(key, msg).await.map(Some)
    }

    /// Sends `msg` and keeps `guard` until the window has answered, even when the caller
    /// stops waiting after the usual timeout: whatever the guard claims (an
    /// idempotency key) stays claimed until the outcome is known.
    pub async fn ask_holding<M, T, G>(&self, key: &WindowKey, msg: M, guard: G) -> Result<T, ServiceError>
    where
        M: Message<Result = Result<T, WindowError>> + Send + 'static,
        T: Send + 'static,
        G: Send + 'static,
        WindowActor: Handler<M>,
    {
        let addr = self.actor(key)?;
        // No timeout on the send itself: it runs to its end in its own task.
        let answer = actix_web::rt::spawn(async move {
            let answer = addr.send(msg).await;
            drop(guard);
            answer
        });
        match tokio::time::timeout(StdDuration::from_millis(ACTOR_REPLY_TIMEOUT_MS), answer).await {
            Err(_elapsed) => {
                telemetry::record_mailbox_timeout();
                Err(ServiceError::Busy)
            }
            Ok(Err(_)) | Ok(Ok(Err(_))) => Err(stopped()),
            Ok(Ok(Ok(answer))) => Ok(answer?),
        }
    }

    /// The window holding reservation `id`.
    pub fn window_of(&self, id: ReservationId) -> Result<WindowKey, ServiceError> {
        let window = self.log.reservation_window(&id)?.ok_or(ServiceError::ReservationNotFound)?;
        match self.venues.get(&window.venue_id) {
            Some(_) => Ok(window),
            None => Err(ServiceError::ReservationNotFound),
        }
    }

    /// Runs `command` on reservation `id` in its window; answers with the reservation
    /// once the outcome is durable.
    pub async fn execute(&self, id: ReservationId, command: Command) -> Result<ReservationView, ServiceError> {
        let view = self.ask(&self.window_of(id)?, Execute { command, idempotency: None }).await?;
        Ok(view.expect("commands on a reservation answer with it"))
    }

    /// Starts of the venue's windows from `since` on that have events.
    pub fn with_events_since(&self, venue: &VenueId, since: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>, ServiceError> {
        Ok(self.log.window_starts_since(venue, since)?)
    }

    /// Starts of the venue's windows from `since` on that have events or a running
    /// actor: every window that does not simply follow the venue's schedule.
    pub fn touched_since(
        &self,
        venue: &VenueId,
        since: DateTime<Utc>,
    ) -> Result<BTreeSet<DateTime<Utc>>, ServiceError> {
        let mut starts: BTreeSet<_> = self.with_events_since(venue, since)?.into_iter().collect();
        starts.extend(self.registry.live_starts(venue, since));
        Ok(starts)
    }

    /// Takes over a window whose state was recovered at start-up; `false` when no
    /// actor could start (it then recovers from its events on demand).
    pub fn start_with_state(&self, window: Window) -> bool {
        self.registry.start_with_state(window)
    }

    /// Window actors running in this process.
    pub fn live_count(&self) -> usize {
        self.registry.live_count()
    }

    /// Passivation checks completed so far by all window actors (tests wait on it).
    pub fn passivation_checks(&self) -> u64 {
        self.registry.passivation_checks()
    }

    /// Stops every window actor of this process.
    pub fn shutdown(&self) {
        self.registry.shutdown();
    }

    /// The window's actor; `Busy` while the live-actor cap is reached. A new actor
    /// opens with the capacity the venue's schedule gives it (read under the
    /// registry's lock, see `Registry::window`).
    fn actor(&self, key: &WindowKey) -> Result<Addr<WindowActor>, ServiceError> {
        let capacity = || self.venues.get(&key.venue_id).map_or(0, |venue| venue.capacity_at(key.start));
        // No actor after a shutdown (the service is stopping): unavailable, not busy.
        let refused = || if self.registry.is_shut_down() { stopped() } else { ServiceError::Busy };
        self.registry.window(key, capacity).ok_or_else(refused)
    }
}

fn stopped() -> ServiceError {
    ServiceError::Unavailable("window actor stopped".into())
}
