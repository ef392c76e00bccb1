//! The facade adapters call. It resolves which window a request concerns, enforces the
//! `Idempotency-Key` contract, and talks to window actors with a timeout. It holds no
//! window state: every decision is the window actor's.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix::{Addr, MailboxError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::client_holds::{Client, ClientHolds};
use super::in_flight::{InFlight, KeysInFlight};
use super::messages::{Execute, GetReservation, IdempotencyTag, WindowError};
use super::{Registry, Shared, Venues, WindowActor};
use crate::domain::{
    Command, Rejection, ReservationId, ReservationView, ReserveRequest, Venue, VenueId, WindowKey, resolve_window_start,
};
use crate::limits::{ACTOR_REPLY_TIMEOUT_MS, IDEMPOTENCY_KEY_LEN_MAX, RECORD_BYTES_MAX};
use crate::store::{IdempotentOutcome, StoreError};
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("no venue with id {0:?}")]
    UnknownVenue(String),
    #[error("no reservation with this id")]
    ReservationNotFound,
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("Idempotency-Key must be 1..={IDEMPOTENCY_KEY_LEN_MAX} printable ASCII characters")]
    BadIdempotencyKey,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress; retry shortly")]
    IdempotencyInProgress,
    #[error("the window did not answer in time; retry shortly")]
    Busy,
    #[error("{0}")]
    Unavailable(String),
    #[error("window {window} refuses service: its log is corrupt at position {seq} ({reason})")]
    WindowCorrupt { window: String, seq: u64, reason: String },
    #[error("invalid range: {0}")]
    BadRange(String),
    #[error("this client already holds {max} unpaid slots; pay or cancel a hold first")]
    TooManyActiveHolds { max: u32 },
    #[error("at most {max} venues")]
    TooManyVenues { max: usize },
    #[error("the request would make a record of {bytes} bytes, over the limit of {max}")]
    RecordTooLarge { bytes: usize, max: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::store::JournalError> for BookingError {
    fn from(error: crate::store::JournalError) -> Self {
        match error {
            crate::store::JournalError::RecordTooLarge(e) => {
                Self::RecordTooLarge { bytes: e.bytes, max: RECORD_BYTES_MAX }
            }
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<WindowError> for BookingError {
    fn from(error: WindowError) -> Self {
        match error {
            WindowError::Rejected(Rejection::UnknownReservation) => Self::ReservationNotFound,
            WindowError::Rejected(rejection) => Self::Rejected(rejection),
            WindowError::Unavailable(reason) => Self::Unavailable(reason),
            WindowError::Corrupt { window, seq, reason } => Self::WindowCorrupt { window, seq, reason },
            WindowError::RecordTooLarge(bytes) => Self::RecordTooLarge { bytes, max: RECORD_BYTES_MAX },
        }
    }
}

/// Sends `msg` and maps a full mailbox or a slow actor to `Busy`. A timeout after the
/// actor took the message leaves the outcome unknown: commands are safe to retry.
pub(super) async fn ask<M>(addr: Addr<WindowActor>, msg: M) -> Result<M::Result, BookingError>
where
    M: actix::Message + Send + 'static,
    M::Result: Send,
    WindowActor: actix::Handler<M>,
{
    addr.send(msg).timeout(StdDuration::from_millis(ACTOR_REPLY_TIMEOUT_MS)).await.map_err(|e| match e {
        MailboxError::Timeout => {
            telemetry::record_mailbox_timeout();
            BookingError::Busy
        }
        MailboxError::Closed => BookingError::Unavailable("window actor stopped".into()),
    })
}

pub struct Booking {
    pub(super) shared: Shared,
    pub(super) registry: Registry,
    pub(super) venues: Venues,
    sales_horizon_days: u32,
    /// Idempotency keys with a request in flight: a concurrent duplicate is refused.
    keys_in_flight: KeysInFlight,
    /// The per-client cap on unpaid held slots; `None` when limits are off.
    pub(super) client_holds: Option<ClientHolds>,
}

impl Booking {
    pub fn new(
        shared: Shared,
        registry: Registry,
        venues: Venues,
        sales_horizon_days: u32,
        client_holds: Option<ClientHolds>,
    ) -> Self {
        Self { shared, registry, venues, sales_horizon_days, keys_in_flight: KeysInFlight::default(), client_holds }
    }

    /// The service's current time (the injected clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    pub fn log(&self) -> &crate::store::EventLog {
        &self.shared.log
    }

    pub(super) fn journal(&self) -> &crate::store::Journal {
        &self.shared.journal
    }

    pub fn venues(&self) -> &Venues {
        &self.venues
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Durable counts as they change, for live streams.
    pub fn live(&self) -> &super::live::LiveHub {
        &self.shared.live
    }

    /// Recent refusals, late payments and refunds per venue.
    pub fn activity(&self) -> &super::activity::ActivityLog {
        &self.shared.activity
    }

    pub fn venue(&self, id: &str) -> Result<Arc<Venue>, BookingError> {
        let unknown = || BookingError::UnknownVenue(id.to_owned());
        let id = VenueId::parse(id).map_err(|_| unknown())?;
        self.venues.get(&id).ok_or_else(unknown)
    }

    /// The window's actor; `Busy` while the live-actor cap is reached.
    pub(super) fn actor(&self, venue: &Venue, start: DateTime<Utc>) -> Result<Addr<WindowActor>, BookingError> {
        let key = WindowKey::new(venue.id.clone(), start);
        self.registry.window(&key, &self.venues).ok_or(BookingError::Busy)
    }

    /// Places a hold; with an idempotency key, a retry gets the first answer.
    pub async fn reserve(
        &self,
        venue_id: &str,
        request: ReserveRequest,
        key: Option<String>,
        client: &Client,
    ) -> Result<ReservationView, BookingError> {
        let venue = self.venue(venue_id)?;
        let Some(key) = key else { return self.place_hold(&venue, request, None, client).await };
        if key.is_empty() || key.len() > IDEMPOTENCY_KEY_LEN_MAX || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(BookingError::BadIdempotencyKey);
        }
        let in_flight = self.keys_in_flight.claim(&venue.id, &key)?;
        match self.shared.log.idempotency(&venue.id, &key)? {
            None => {
                let tag = IdempotencyTag { key, venue_id: venue.id.clone(), request: request.clone() };
                self.place_hold(&venue, request, Some((tag, in_flight)), client).await
            }
            Some(entry) if entry.venue_id != venue.id || entry.request != request => {
                Err(BookingError::IdempotencyKeyReused)
            }
            Some(entry) => match entry.outcome {
                IdempotentOutcome::Reserved { reservation_id, .. } => self.reservation(reservation_id).await,
                IdempotentOutcome::SoldOut { available } => Err(Rejection::SoldOut { available }.into()),
            },
        }
    }

    /// A keyed hold runs in its own task that keeps the key claimed until the answer is
    /// durable, even if the client hangs up: otherwise a quick retry could find no
    /// record yet and place a second hold under the same key.
    async fn place_hold(
        &self,
        venue: &Venue,
        request: ReserveRequest,
        tag: Option<(IdempotencyTag, InFlight)>,
        client: &Client,
    ) -> Result<ReservationView, BookingError> {
        let quantity = request.quantity()?;
        let email = request.email()?;
        let start = resolve_window_start(request.window_start, self.shared.clock.now(), self.sales_horizon_days)?;
        let permit = self.admit_client(&client.keys(email.as_deref()), quantity).await?;
        let reservation_id = ReservationId::from_uuid(Uuid::new_v4());
        let command = Command::PlaceHold { reservation_id, quantity, hold_ttl: venue.hold_ttl(), email };
        let (idempotency, in_flight) = tag.unzip();
        let addr = self.actor(venue, start)?;
        // No timeout on the send itself: the key stays claimed until the actor has
        // answered, however long the client waits, so a retry can never overtake it.
        let answer = actix_web::rt::spawn(async move {
            let answer = addr.send(Execute { command, idempotency }).await;
            drop(in_flight);
            answer
        });
        let answer = tokio::time::timeout(StdDuration::from_millis(ACTOR_REPLY_TIMEOUT_MS), answer).await;
        let view = match answer {
            Err(_elapsed) => {
                telemetry::record_mailbox_timeout();
                return Err(BookingError::Busy);
            }
            Ok(Err(_)) | Ok(Ok(Err(_))) => return Err(BookingError::Unavailable("window actor stopped".into())),
            Ok(Ok(Ok(view))) => view?,
        };
        let view = view.expect("PlaceHold answers with its reservation");
        if let Some(permit) = permit {
            permit.record(view.id, view.expires_at);
        }
        Ok(view)
    }

    /// The actor of the window holding reservation `id`.
    pub(super) fn reservation_actor(&self, id: ReservationId) -> Result<Addr<WindowActor>, BookingError> {
        let window = self.shared.log.reservation_window(&id)?.ok_or(BookingError::ReservationNotFound)?;
        let venue = self.venues.get(&window.venue_id).ok_or(BookingError::ReservationNotFound)?;
        self.actor(&venue, window.start)
    }

    pub async fn reservation(&self, id: ReservationId) -> Result<ReservationView, BookingError> {
        Ok(ask(self.reservation_actor(id)?, GetReservation(id)).await??)
    }

    pub(super) async fn execute(&self, id: ReservationId, command: Command) -> Result<ReservationView, BookingError> {
        let view = ask(self.reservation_actor(id)?, Execute { command, idempotency: None }).await??;
        Ok(view.expect("commands on a reservation answer with it"))
    }

    pub async fn cancel(&self, id: ReservationId) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::Cancel { reservation_id: id }).await
    }

    /// Records a payment; the same `payment_ref` twice is a no-op.
    pub async fn confirm(&self, id: ReservationId, payment_ref: String) -> Result<ReservationView, BookingError> {
        self.execute(id, Command::Confirm { reservation_id: id, payment_ref }).await
    }
}
