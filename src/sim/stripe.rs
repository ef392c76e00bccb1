//! The simulated Stripe: payments taken, the webhook events they cause (delivered 0-4
//! times, late, in any order, again after any answer that was not a 2xx), and the
//! refunds API with its faults (5xx, timeouts before or after the refund was made,
//! idempotency keys that Stripe has forgotten after 24 hours).
//!
//! Events are real JSON, signed with the real signature code; the simulator checks the
//! signature and parses them with the webhook's own functions.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::rng::Rng;
use crate::domain::ReservationId;

pub const WEBHOOK_SECRET: &str = "whsec_sim";

/// A payment the customer made at Stripe (money taken).
#[derive(Debug, Clone)]
pub struct Paid {
    pub intent: String,
    pub reservation: ReservationId,
}

/// A webhook event waiting for a delivery attempt at `due`.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub due: DateTime<Utc>,
    pub event_id: String,
    pub body: Vec<u8>,
}

/// How one refunds API call ended, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    Timeout,
    Server,
}

#[derive(Default)]
pub struct Stripe {
    next_id: u64,
    pub payments: Vec<Paid>,
    /// Pending delivery attempts, any order; the world takes those that are due.
    pub deliveries: Vec<Delivery>,
    /// Event ids that got a 2xx: Stripe stops retrying them.
    pub acknowledged: Vec<String>,
    /// Refunds made, per payment intent, in creation order: `refund id`.
    pub refunds: BTreeMap<String, Vec<String>>,
    idempotency: BTreeMap<String, String>,
}

impl Stripe {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_sim{}", self.next_id)
    }

    /// The customer pays `amount` for `reservation`; the completed event is scheduled
    /// 0-4 times (0: it comes only after the run's faults end, i.e. very late).
    pub fn pay(&mut self, rng: &mut Rng, now: DateTime<Utc>, reservation: ReservationId, amount: u64, currency: &str) {
        let (intent, session) = (self.id("pi"), self.id("cs"));
        self.payments.push(Paid { intent: intent.clone(), reservation });
        let object = json!({
            "id": session, "object": "checkout.session", "status": "complete", "payment_status": "paid",
            "client_reference_id": reservation.to_string(),
            "metadata": { "reservation_id": reservation.to_string() },
            "payment_intent": intent, "amount_total": amount, "currency": currency,
        });
        self.schedule(rng, now, "checkout.session.completed", object);
    }

    /// The customer abandons a checkout page and it expires.
    pub fn expire_session(&mut self, rng: &mut Rng, now: DateTime<Utc>, reservation: ReservationId) {
        let session = self.id("cs");
        let object = json!({
            "id": session, "object": "checkout.session", "status": "expired", "payment_status": "unpaid",
            "client_reference_id": reservation.to_string(), "payment_intent": null,
        });
        self.schedule(rng, now, "checkout.session.expired", object);
    }

    fn schedule(&mut self, rng: &mut Rng, now: DateTime<Utc>, kind: &str, object: serde_json::Value) {
        let event_id = self.id("evt");
        let event = json!({ "id": event_id, "object": "event", "type": kind, "created": now.timestamp(),
                            "livemode": false, "data": { "object": object } });
        let body = serde_json::to_vec(&event).expect("a JSON value serializes");
        let copies = rng.below(5);
        let due = |rng: &mut Rng| now + Duration::seconds(rng.below(900) as i64);
        for _ in 0..copies {
            self.deliveries.push(Delivery { due: due(rng), event_id: event_id.clone(), body: body.clone() });
        }
        if copies == 0 {
            self.deliveries.push(Delivery { due: DateTime::<Utc>::MAX_UTC, event_id, body });
        }
    }

    /// A delivery that got no 2xx is tried again later, as Stripe does for days.
    pub fn retry(&mut self, rng: &mut Rng, now: DateTime<Utc>, delivery: Delivery) {
        let due = now + Duration::seconds(rng.between(1, 600) as i64);
        self.deliveries.push(Delivery { due, ..delivery });
    }

    /// Removes and returns the deliveries due at `now`, in a random order.
    pub fn take_due(&mut self, rng: &mut Rng, now: DateTime<Utc>) -> Vec<Delivery> {
        let (mut due, later): (Vec<_>, Vec<_>) = self.deliveries.drain(..).partition(|d| d.due <= now);
        self.deliveries = later;
        for i in (1..due.len()).rev() {
            due.swap(i, rng.below(i as u64 + 1) as usize);
        }
        due
    }

    /// `GET /v1/refunds?payment_intent=`: may fail like any call.
    pub fn list_refunds(&self, rng: &mut Rng, intent: &str) -> Result<Vec<String>, CallError> {
        fault(rng)?;
        Ok(self.refunds.get(intent).cloned().unwrap_or_default())
    }

    /// `POST /v1/refunds` with an idempotency key. A timeout may come after Stripe made
    /// the refund; a key Stripe has forgotten (24 h) makes a new one.
    pub fn create_refund(&mut self, rng: &mut Rng, intent: &str, key: &str) -> Result<String, CallError> {
        if rng.chance(10) {
            self.idempotency.clear();
        }
        if rng.chance(10) {
            return Err(CallError::Server);
        }
        let refund = match self.idempotency.get(key) {
            Some(id) => id.clone(),
            None => {
                let id = self.id("re");
                self.refunds.entry(intent.to_owned()).or_default().push(id.clone());
                self.idempotency.insert(key.to_owned(), id.clone());
                id
            }
        };
        if rng.chance(15) {
            return Err(CallError::Timeout);
        }
        Ok(refund)
    }
}

fn fault(rng: &mut Rng) -> Result<(), CallError> {
    match rng.below(100) {
        0..10 => Err(CallError::Timeout),
        10..20 => Err(CallError::Server),
        _ => Ok(()),
    }
}
