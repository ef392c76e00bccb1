//! Reserve with Stripe: place the hold, then open a Checkout Session for it.
//!
//! The hold comes first, so a customer is never sent to pay for a slot that was not
//! granted. The session is created with a stable idempotency key
//! (`checkout:<reservation>`) and parameters that are a pure function of the durable
//! reservation (even `expires_at` derives from the hold's placement, not the clock), so
//! every retry - the client's, or a keyed retry after a crash - sends the same bytes and
//! Stripe answers with the session it created first. If Stripe cannot be reached, the hold is released before answering,
//! so nothing is left held by a request that failed.

use chrono::DateTime;

use crate::domain::{Checkout, ReservationStatus, ReservationView, ReserveRequest, Venue};
use crate::service::in_flight::KeysInFlight;
use crate::service::{Client, ServiceError, Services};
use crate::stripe::{CheckoutSessionParams, StripeClient, StripeError, session_expires_at};

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the payment provider cannot open a checkout page now: {0}")]
    Provider(String),
}

fn provider(error: StripeError) -> CheckoutError {
    CheckoutError::Provider(error.to_string())
}

pub struct CheckoutService {
    services: Services,
    stripe: StripeClient,
    /// Base of the pages Stripe sends the customer back to.
    public_url: String,
    /// Keys of keyed reserves still opening their page (see `service::in_flight`).
    keys_in_flight: KeysInFlight,
}

impl CheckoutService {
    pub fn new(services: Services, stripe: StripeClient, public_url: String) -> Self {
        Self { services, stripe, public_url, keys_in_flight: KeysInFlight::default() }
    }

    /// Places a hold and opens its checkout page; a keyed retry returns the first page.
    pub async fn reserve(
        &self,
        venue: &Venue,
        request: ReserveRequest,
        key: Option<String>,
        client: &Client,
    ) -> Result<ReservationView, CheckoutError> {
        // Claimed for the whole request - hold, checkout page, and the release if the
        // page cannot be opened - so a keyed retry meanwhile gets `409
        // idempotency_in_progress`, never the hold as it stands in between.
        let _claim = key.as_deref().map(|k| self.keys_in_flight.claim(&venue.id, k)).transpose()?;
        let keyed = key.is_some();
        let view = self.services.reservations.reserve(venue, request, key, client).await?;
        if view.checkout.is_some() {
            return Ok(view);
        }
        if keyed && view.status == ReservationStatus::Cancelled {
            // The first request with this key could not open a page and released its
            // hold (a customer never saw the id to cancel it): its answer stands.
            return Err(CheckoutError::Provider(
                "the first request with this Idempotency-Key got no checkout page".into(),
            ));
        }
        if view.status != ReservationStatus::Held {
            return Ok(view);
        }
        match self.open_session(venue, &view).await {
            Ok(checkout) => Ok(self.services.payments.open_checkout(view.id, checkout).await?),
            Err(error) => {
                tracing::warn!(reservation = %view.id, %error, "no checkout session; releasing the hold");
                if let Err(release) = self.services.reservations.cancel(view.id).await {
                    tracing::error!(reservation = %view.id, %release, "hold not released; it will expire");
                }
                Err(error)
            }
        }
    }

    /// Opens the checkout page of a waitlist offer the first time the offer is read: an
    /// offer is made inside a window's decision, which never waits for Stripe. Anything
    /// else, or a page already open, is returned as it is; so is the offer if Stripe
    /// cannot be reached (the next read tries again; the offer is not taken back).
    pub async fn open_offer_page(&self, view: ReservationView) -> Result<ReservationView, CheckoutError> {
        let is_open_offer = view.offered_at.is_some() && view.status == ReservationStatus::Held;
        if !is_open_offer || view.checkout.is_some() {
            return Ok(view);
        }
        let venue = self.services.venues.find(view.window.venue_id.as_str())?;
        match self.open_session(&venue, &view).await {
            Ok(checkout) => Ok(self.services.payments.open_checkout(view.id, checkout).await?),
            Err(error) => {
                tracing::warn!(reservation = %view.id, %error, "no checkout page for the waitlist offer yet");
                Ok(view)
            }
        }
    }

    async fn open_session(&self, venue: &Venue, view: &ReservationView) -> Result<Checkout, CheckoutError> {
        let id = view.id.to_string();
        let local_start = view.window.start.with_timezone(&venue.timezone).format("%a %d %b %H:%M");
        // Back to the status page, which follows the reservation until the webhook lands.
        let status_url = format!("{}/reservations/{id}", self.public_url);
        let params = CheckoutSessionParams {
            success_url: status_url.clone(),
            cancel_url: status_url,
            // The hold's own price: the one the window checks the payment against.
            currency: view.amount.currency.clone(),
            unit_amount: view.amount.unit_minor,
            quantity: view.amount.quantity,
            product_name: format!("Queue skip, {}, {local_start}", venue.name),
            reservation_id: id.clone(),
            // From durable data only (not the clock): a retry of this key, even after a
            // restart, sends the very same bytes, and Stripe answers with the first session.
            expires_at: session_expiry(view),
        };
        let key = format!("checkout:{id}");
        let session = self.stripe.create_checkout_session(&params, &key).await.map_err(provider)?;
        let url = session.url.ok_or_else(|| CheckoutError::Provider("a new session has no url".into()))?;
        let expires_at = DateTime::from_timestamp(session.expires_at, 0)
            .ok_or_else(|| CheckoutError::Provider(format!("expires_at {} out of range", session.expires_at)))?;
        Ok(Checkout { session_id: session.id, url, expires_at, closed: false })
    }
}

/// When the checkout page of `view` stops taking payment at Stripe, from durable data.
/// A hold's page opens right after the hold; an offer's page opens when the offer is
/// first read, some time after it was made, so it asks for the longest expiry Stripe
/// allows counted from the offer (the session-expiry worker closes it once the offer
/// lapses, as for any page that outlives its hold).
fn session_expiry(view: &ReservationView) -> i64 {
    match view.offered_at {
        None => session_expires_at(view.expires_at, view.placed_at),
        Some(offered_at) => {
            let longest = offered_at + chrono::Duration::seconds(crate::stripe::SESSION_EXPIRY_MAX_SECS);
            session_expires_at(longest, offered_at)
        }
    }
}
