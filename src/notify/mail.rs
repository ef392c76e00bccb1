//! The offer e-mail: what a queued customer reads when slots were offered to it (venue,
//! window in the venue's time zone, until when the offer holds, the payment link).

use chrono::{DateTime, Utc};

use crate::domain::{ReservationView, Venue};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Stable per offer, so that a resent mail can be recognised as the same.
    pub message_id: String,
}

/// Where the customer pays and where it sees its reservation.
#[derive(Debug, Clone)]
pub struct Links {
    pub public_url: String,
    /// The built-in dev checkout page is the payment page (payment provider `dev`).
    pub dev_payments: bool,
}

impl Links {
    /// The checkout page of the reservation: its provider's session when it has one,
    /// else the dev page, else the status page (which leads to payment).
    pub fn payment(&self, view: &ReservationView) -> String {
        match (&view.checkout, self.dev_payments) {
            (Some(checkout), _) => checkout.url.clone(),
            (None, true) => format!("{}/dev/checkout/{}", self.public_url, view.id),
            (None, false) => self.status(view),
        }
    }

    pub fn status(&self, view: &ReservationView) -> String {
        format!("{}/reservations/{}", self.public_url, view.id)
    }
}

impl OfferMail {
    /// The mail for `view`, an open offer, to `to`.
    pub fn new(to: &str, view: &ReservationView, venue: &Venue, links: &Links) -> Self {
        let local = |t: DateTime<Utc>| t.with_timezone(&venue.timezone).format("%a %d %b %H:%M %Z").to_string();
        let (start, end) = (local(view.window.start), local(view.window.end()));
        let amount = view.amount.total_minor();
        let currency = view.amount.currency.to_uppercase();
        let body = format!(
            "Good news: {quantity} queue skip(s) at {name} for {start} - {end} are yours if you pay by {expires}.\n\n\
             Pay ({major}.{minor:02} {currency}): {pay}\n\
             Your reservation: {status}\n\n\
             If you do not pay in time, the slots go to the next customer in the queue.\n",
            quantity = view.quantity,
            name = venue.name,
            expires = local(view.expires_at),
            major = amount / 100,
            minor = amount % 100,
            pay = links.payment(view),
            status = links.status(view),
        );
        let offered_ms = view.offered_at.map_or(0, |t| t.timestamp_millis());
        Self {
            to: to.to_owned(),
            subject: format!("Your queue skip at {} is ready: pay by {}", venue.name, local(view.expires_at)),
            body,
            message_id: format!("<offer.{}.{offered_ms}@qskip>", view.id),
        }
    }
}
