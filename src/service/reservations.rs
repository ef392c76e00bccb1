//! The customer's reservations: place a hold, read it, cancel it. Owns the
//! `Idempotency-Key` contract of holds (a retry gets the first answer, a concurrent
//! duplicate is refused) and the per-client cap on unpaid holds ([`ClientHolds`]).
//! It holds no window state: every decision is the window's.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::client_holds::{Client, ClientHolds, Permit};
use super::in_flight::{InFlight, KeysInFlight};
use super::{ServiceError, Windows};
use crate::actors::messages::{Execute, GetReservation, IdempotencyTag};
use crate::clock::Clock;
use crate::domain::{
    Command, Rejection, ReservationId, ReservationStatus, ReservationView, ReserveRequest, Venue, WindowKey,
    resolve_window_start,
};
use crate::limits::IDEMPOTENCY_KEY_LEN_MAX;
use crate::store::{EventLog, IdempotentOutcome};

/// Cheap to clone: every clone is the same service (same keys in flight).
#[derive(Clone)]
pub struct Reservations {
    windows: Windows,
    log: EventLog,
    clock: Arc<dyn Clock>,
    sales_horizon_days: u32,
    /// Idempotency keys with a request in flight: a concurrent duplicate is refused.
    keys_in_flight: KeysInFlight,
    /// The per-client cap on unpaid held slots; `None` when limits are off.
    client_holds: Option<ClientHolds>,
    /// How long a waitlist offer stays open (`waitlist_offer_secs`).
    pub(super) waitlist_offer_secs: u32,
}

impl Reservations {
    pub fn new(
        windows: Windows,
        log: EventLog,
        clock: Arc<dyn Clock>,
        sales_horizon_days: u32,
        client_holds: Option<ClientHolds>,
    ) -> Self {
        let keys_in_flight = KeysInFlight::default();
        let waitlist_offer_secs = crate::limits::WAITLIST_OFFER_SECS_DEFAULT;
        Self { windows, log, clock, sales_horizon_days, keys_in_flight, client_holds, waitlist_offer_secs }
    }

    /// Places a hold (or, asked to and sold out, a place in the waitlist); with an
    /// idempotency key, a retry gets the first answer. A sold-out answer to a request
    /// without the waitlist flag says whether the window would have queued it.
    pub async fn reserve(
        &self,
        venue: &Venue,
        request: ReserveRequest,
        key: Option<String>,
        client: &Client,
    ) -> Result<ReservationView, ServiceError> {
        let (quantity, start, waitlist) = (request.quantity, request.window_start, request.waitlist);
        let answer = self.reserve_once(venue, request, key, client).await;
        match answer {
            Err(ServiceError::Rejected(Rejection::SoldOut { available })) if !waitlist => {
                let start = resolve_window_start(start, self.now(), self.sales_horizon_days)?;
                let queue_open = quantity.unwrap_or(1) <= venue.capacity_at(start);
                Err(ServiceError::SoldOut { available, waitlist: queue_open })
            }
            other => other,
        }
    }

    async fn reserve_once(
        &self,
        venue: &Venue,
        request: ReserveRequest,
        key: Option<String>,
        client: &Client,
    ) -> Result<ReservationView, ServiceError> {
        let Some(key) = key else { return self.place_hold(venue, request, None, client).await };
        if key.is_empty() || key.len() > IDEMPOTENCY_KEY_LEN_MAX || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ServiceError::BadIdempotencyKey);
        }
        let in_flight = self.keys_in_flight.claim(&venue.id, &key)?;
        match self.log.idempotency(&venue.id, &key)? {
            None => {
                let tag = IdempotencyTag { key, venue_id: venue.id.clone(), request: request.clone() };
                self.place_hold(venue, request, Some((tag, in_flight)), client).await
            }
            Some(entry) if entry.venue_id != venue.id || entry.request != request => {
                Err(ServiceError::IdempotencyKeyReused)
            }
            Some(entry) => match entry.outcome {
                IdempotentOutcome::Reserved { reservation_id, .. } => self.reservation(reservation_id).await,
                IdempotentOutcome::SoldOut { available } => Err(Rejection::SoldOut { available }.into()),
            },
        }
    }

    /// A keyed hold keeps its key claimed until the answer is durable, even if the
    /// client hangs up: otherwise a quick retry could find no record yet and place a
    /// second hold under the same key.
    async fn place_hold(
        &self,
        venue: &Venue,
        request: ReserveRequest,
        tag: Option<(IdempotencyTag, InFlight)>,
        client: &Client,
    ) -> Result<ReservationView, ServiceError> {
        let quantity = request.quantity()?;
        let email = request.email()?;
        let start = resolve_window_start(request.window_start, self.now(), self.sales_horizon_days)?;
        let permit = self.admit_client(&client.keys(email.as_deref()), quantity).await?;
        // Version 7: time-ordered, so the reservation index (`R` keys) grows at its end
        // like the log instead of at a random leaf - a third cheaper per hold in sled
        // (see README, Performance) - and still 74 random bits that nobody can guess.
        let reservation_id = ReservationId::from_uuid(Uuid::now_v7());
        let waitlist_offer_secs = request.waitlist.then_some(self.waitlist_offer_secs);
        let hold_ttl = venue.hold_ttl();
        let command = Command::PlaceHold { reservation_id, quantity, hold_ttl, email, waitlist_offer_secs };
        let (idempotency, in_flight) = tag.unzip();
        let key = WindowKey::new(venue.id.clone(), start);
        let view = self.windows.ask_holding(&key, Execute { command, idempotency }, in_flight).await?;
        let view = view.expect("PlaceHold answers with its reservation");
        if let Some(permit) = permit {
            permit.record(view.id, view.expires_at);
        }
        Ok(view)
    }

    pub async fn reservation(&self, id: ReservationId) -> Result<ReservationView, ServiceError> {
        self.windows.ask(&self.windows.window_of(id)?, GetReservation(id)).await
    }

    pub async fn cancel(&self, id: ReservationId) -> Result<ReservationView, ServiceError> {
        self.windows.execute(id, Command::Cancel { reservation_id: id }).await
    }

    /// Claims `quantity` held slots for the client, or refuses it at the cap. At the cap
    /// it first asks the windows which counted holds are still held.
    async fn admit_client(&self, keys: &[String], quantity: u32) -> Result<Option<Permit>, ServiceError> {
        let Some(holds) = &self.client_holds else { return Ok(None) };
        if keys.is_empty() {
            return Ok(None);
        }
        let counted = match holds.try_admit(keys, quantity, self.now()) {
            Ok(permit) => return Ok(Some(permit)),
            Err(counted) => counted,
        };
        let mut ended = Vec::new();
        for id in counted {
            match self.reservation(id).await {
                Ok(view) if view.status == ReservationStatus::Held => {}
                Ok(_) | Err(ServiceError::ReservationNotFound) => ended.push(id),
                Err(_) => {}
            }
        }
        holds.forget(&ended);
        match holds.try_admit(keys, quantity, self.now()) {
            Ok(permit) => Ok(Some(permit)),
            Err(_) => Err(ServiceError::TooManyActiveHolds { max: holds.max_slots() }),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
