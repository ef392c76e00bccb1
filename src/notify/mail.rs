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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::{Amount, ReservationId, ReservationStatus, Schedule, VenueId, WindowKey};

    #[test]
    fn the_mail_names_the_venue_the_local_window_the_deadline_and_both_links() {
        let id = VenueId::parse("club").expect("a valid id");
        let schedule = Schedule::new(8, &[]).expect("a valid schedule");
        let tz = "Europe/Berlin".parse().expect("a known zone");
        let venue = Venue::new(id.clone(), "Club <Nova>".into(), tz, 1500, "eur", 600, schedule).expect("valid");
        let start = Utc.with_ymd_and_hms(2026, 11, 28, 20, 0, 0).single().expect("valid");
        let offered = start - chrono::Duration::minutes(30);
        let view = ReservationView {
            window: WindowKey::new(id, start),
            id: ReservationId::from_uuid(uuid::Uuid::from_u128(9)),
            quantity: 2,
            status: ReservationStatus::Held,
            placed_at: offered - chrono::Duration::minutes(5),
            expires_at: offered + chrono::Duration::minutes(10),
            confirmed_at: None,
            email: Some("ada@example.com".into()),
            payment_ref: None,
            refunds: Vec::new(),
            checkout: None,
            checkout_to_close: false,
            amount: Amount { unit_minor: 1500, quantity: 2, currency: "eur".into() },
            offered_at: Some(offered),
            position: None,
        };
        let links = Links { public_url: "https://skip.example".into(), dev_payments: true };
        let mail = OfferMail::new("ada@example.com", &view, &venue, &links);
        let id = view.id;
        assert!(mail.body.contains("Club <Nova>"), "plain text, not HTML: {}", mail.body);
        assert!(mail.body.contains("Sat 28 Nov 21:00 CET - Sat 28 Nov 21:15 CET"), "{}", mail.body);
        assert!(mail.body.contains("pay by Sat 28 Nov 20:40 CET"), "{}", mail.body);
        assert!(mail.body.contains("30.00 EUR"), "{}", mail.body);
        assert!(mail.body.contains(&format!("https://skip.example/dev/checkout/{id}")), "{}", mail.body);
        assert!(mail.body.contains(&format!("https://skip.example/reservations/{id}")), "{}", mail.body);
        assert_eq!(mail.message_id, format!("<offer.{id}.{}@qskip>", offered.timestamp_millis()));
        let stripe = Links { dev_payments: false, ..links };
        assert_eq!(stripe.payment(&view), stripe.status(&view), "no session and no dev page: the status page");
    }
}
