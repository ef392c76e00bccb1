//! The notifier: reads durable `WaitlistOffered` records from the log and mails each
//! offer that is still open to the reservation's e-mail address, retrying with capped
//! exponential backoff up to `NOTIFY_ATTEMPTS_MAX`.
//!
//! Durable first: the worker notes the log's last seq, then waits on an empty journal
//! submission (a barrier, resolved once everything submitted before it is durable)
//! before reading up to that seq. So no customer is told of an offer a crash could
//! still take back. Reading costs the actors nothing; the one actor call is the
//! reservation's current view (is the offer still open? its e-mail, its amount).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::ledger::Ledger;
use super::mail::{Links, OfferMail};
use super::mailer::{MailError, Mailer};
use crate::domain::{ReservationId, ReservationStatus, WindowEvent, WindowKey};
use crate::limits::{
    NOTIFY_ATTEMPTS_MAX, NOTIFY_LEDGER_SAVE_SECS, NOTIFY_QUEUE_MAX, NOTIFY_RETRY_DELAY_FIRST_MS,
    NOTIFY_RETRY_DELAY_MAX_MS, NOTIFY_SCAN_INTERVAL_MS, NOTIFY_SCAN_RECORDS_MAX,
};
use crate::service::Services;
use crate::store::{Journal, Record};

/// An offer read from the log and not yet done.
struct Pending {
    key: WindowKey,
    reservation_id: ReservationId,
    offered_at: DateTime<Utc>,
    attempts: u32,
    next_try: Instant,
}

/// What became of one try at an offer.
enum Outcome {
    Sent,
    /// Not to be mailed (no address, offer no longer open): done.
    Skipped(&'static str),
    Failed(MailError),
    /// The reservation could not be read now (actor busy, journal trouble).
    NotNow(String),
}

pub struct Notifier {
    services: Services,
    journal: Journal,
    mailer: Mailer,
    links: Links,
    ledger: Ledger,
    /// By log seq of the offer record.
    pending: BTreeMap<u64, Pending>,
    /// Every record up to this seq has been read.
    read_through: u64,
    /// When the ledger was last written.
    saved_at: Instant,
}

impl Notifier {
    pub fn new(services: Services, journal: Journal, mailer: Mailer, links: Links, ledger: Ledger) -> Self {
        let read_through = ledger.state.cursor;
        let saved_at = Instant::now();
        Self { services, journal, mailer, links, ledger, pending: BTreeMap::new(), read_through, saved_at }
    }

    /// Runs forever on the current actix system, one pass per scan interval.
    pub fn spawn(mut self) {
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(Duration::from_millis(NOTIFY_SCAN_INTERVAL_MS));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.pass().await;
            }
        });
    }

    async fn pass(&mut self) {
        if let Err(error) = self.read_offers().await {
            tracing::warn!(%error, "notifier cannot read the log now; will retry");
        }
        self.try_due().await;
        let cursor = self.pending.keys().next().map_or(self.read_through, |first| first - 1);
        self.ledger.advance(cursor);
        // A cursor that lags only means rereading some records after a restart (what
        // was sent is saved at once, below), so it is saved now and then, not per pass.
        if self.saved_at.elapsed() >= Duration::from_secs(NOTIFY_LEDGER_SAVE_SECS) {
            self.save_ledger();
        }
    }

    fn save_ledger(&mut self) {
        match self.ledger.save() {
            Ok(()) => self.saved_at = Instant::now(),
            Err(error) => tracing::error!(%error, "notifier cannot write its ledger; a restart may resend"),
        }
    }

    /// Reads the offer records that are durable and not yet read (a bounded slice).
    async fn read_offers(&mut self) -> anyhow::Result<()> {
        if self.pending.len() >= NOTIFY_QUEUE_MAX {
            return Ok(());
        }
        let log = self.services.log().clone();
        let last = log.last_seq()?;
        if last <= self.read_through {
            return Ok(());
        }
        self.journal.append(Vec::new()).1.await?;
        let (from, through) = (self.read_through + 1, last.min(self.read_through + NOTIFY_SCAN_RECORDS_MAX));
        let room = NOTIFY_QUEUE_MAX - self.pending.len();
        let done = self.ledger.state.done.clone();
        // Sled reads block: off the runtime.
        let (offers, read_through) = tokio::task::spawn_blocking(move || {
            let mut offers = Vec::new();
            let mut read_through = from - 1;
            for entry in log.iter_range(from, through) {
                let (seq, _, record) = entry?;
                if let Record::Window(key, WindowEvent::WaitlistOffered { reservation_id, offered_at, .. }) = record
                    && !done.contains(&seq)
                {
                    if offers.len() == room {
                        break;
                    }
                    offers.push((seq, key, reservation_id, offered_at));
                }
                read_through = seq;
            }
            anyhow::Ok((offers, read_through))
        })
        .await??;
        let now = Instant::now();
        for (seq, key, reservation_id, offered_at) in offers {
            self.pending.insert(seq, Pending { key, reservation_id, offered_at, attempts: 0, next_try: now });
        }
        self.read_through = read_through;
        Ok(())
    }

    /// Tries every offer whose turn has come, oldest first.
    async fn try_due(&mut self) {
        let due: Vec<u64> =
            self.pending.iter().filter(|(_, p)| p.next_try <= Instant::now()).map(|(&seq, _)| seq).collect();
        for seq in due {
            let pending = self.pending.get(&seq).expect("due offers are pending: only this loop removes them");
            let venue = pending.key.venue_id.as_str().to_owned();
            match self.try_offer(pending).await {
                Outcome::Sent => {
                    super::count(&venue, "sent");
                    self.done(seq);
                    // Right away: the mail is out, a crash now must not send it again.
                    self.save_ledger();
                }
                Outcome::Skipped(why) => {
                    tracing::debug!(offer_seq = seq, why, "offer not mailed");
                    super::count(&venue, "skipped");
                    self.done(seq);
                }
                Outcome::Failed(error) => {
                    let transient = error.is_transient();
                    self.failed(seq, &venue, transient, &error.to_string());
                }
                Outcome::NotNow(error) => self.failed(seq, &venue, true, &error),
            }
        }
    }

    fn done(&mut self, seq: u64) {
        self.pending.remove(&seq);
        self.ledger.state.done.insert(seq);
    }

    /// Counts a failed try; an error retrying cannot fix, or the last allowed attempt,
    /// ends the tries (logged and counted as `gave_up`).
    fn failed(&mut self, seq: u64, venue: &str, transient: bool, error: &str) {
        let attempts = self.retry_later(seq);
        let id = self.pending.get(&seq).map(|p| p.reservation_id);
        if !transient || attempts >= NOTIFY_ATTEMPTS_MAX {
            tracing::error!(reservation = ?id, attempts, %error, "gave up on an offer e-mail");
            super::count(venue, "gave_up");
            self.done(seq);
        } else {
            tracing::warn!(reservation = ?id, attempts, %error, "offer e-mail not sent yet; will retry");
            super::count(venue, "failed_attempt");
        }
    }

    /// Counts a failed attempt and schedules the next; returns the attempts so far.
    fn retry_later(&mut self, seq: u64) -> u32 {
        let pending = self.pending.get_mut(&seq).expect("a failed offer is pending");
        pending.attempts += 1;
        let delay_ms = NOTIFY_RETRY_DELAY_FIRST_MS.saturating_mul(1 << (pending.attempts - 1).min(16));
        pending.next_try = Instant::now() + Duration::from_millis(delay_ms.min(NOTIFY_RETRY_DELAY_MAX_MS));
        pending.attempts
    }

    async fn try_offer(&self, pending: &Pending) -> Outcome {
        let view = match self.services.reservations.reservation(pending.reservation_id).await {
            Ok(view) => view,
            Err(error) => return Outcome::NotNow(error.to_string()),
        };
        let now = self.services.now();
        let open = view.status == ReservationStatus::Held
            && view.offered_at == Some(pending.offered_at)
            && view.expires_at > now;
        if !open {
            return Outcome::Skipped("the offer is no longer open");
        }
        let Some(to) = view.email.as_deref() else { return Outcome::Skipped("no e-mail address") };
        let venue = match self.services.venues.find(view.window.venue_id.as_str()) {
            Ok(venue) => venue,
            Err(error) => return Outcome::NotNow(error.to_string()),
        };
        let mail = OfferMail::new(to, &view, &venue, &self.links);
        match self.mailer.send(&mail, now).await {
            Ok(()) => {
                tracing::info!(reservation = %view.id, "offer e-mail sent");
                Outcome::Sent
            }
            Err(error) => Outcome::Failed(error),
        }
    }
}
