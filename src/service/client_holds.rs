//! The per-client cap on unpaid held slots: a client (by e-mail when given, and by IP)
//! may hold at most `max_slots` slots without paying, across all windows and venues,
//! so one bot cannot take a window's every slot and let them expire over and over.
//!
//! Holds end in their window actors, so this book is conservative: a hold counts until
//! its expiry. When a client reaches the cap, the reservations service asks the windows
//! which of its holds are still held and forgets the others before refusing. The book lives in
//! memory: a restart forgets it (the holds themselves are durable and expire anyway).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use std::net::IpAddr;

use crate::domain::ReservationId;
use crate::limits::TRACKED_CLIENTS_MAX;

/// Who is asking, as far as limits are concerned.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address (the peer, or a trusted proxy's header); `None` for callers
    /// that are not HTTP clients.
    pub ip: Option<IpAddr>,
}

impl Client {
    /// The keys a request is counted under: its IP, and its e-mail when given.
    pub fn keys(&self, email: Option<&str>) -> Vec<String> {
        let ip = self.ip.map(|ip| format!("ip:{ip}"));
        let email = email.map(|e| format!("email:{}", e.to_ascii_lowercase()));
        ip.into_iter().chain(email).collect()
    }
}

#[derive(Debug, Clone)]
struct Tracked {
    /// `None` while the hold is being placed.
    id: Option<ReservationId>,
    token: u64,
    quantity: u32,
    expires_at: DateTime<Utc>,
}

#[derive(Default)]
struct Book {
    by_client: HashMap<String, Vec<Tracked>>,
    next_token: u64,
}

/// Cheap to clone: every clone is the same book.
#[derive(Clone)]
pub struct ClientHolds {
    max_slots: u32,
    book: Arc<Mutex<Book>>,
}

/// A claim on `quantity` slots for the clients of one request; dropped unrecorded, it
/// gives them back.
pub struct Permit {
    book: Arc<Mutex<Book>>,
    clients: Vec<String>,
    token: u64,
}

impl ClientHolds {
    pub fn new(max_slots: u32) -> Self {
        Self { max_slots, book: Arc::default() }
    }

    pub fn max_slots(&self) -> u32 {
        self.max_slots
    }

    /// Claims `quantity` slots for every client key, or `Err` with the reservations that
    /// count against a client at the cap (to check whether they are still held).
    pub fn try_admit(
        &self,
        clients: &[String],
        quantity: u32,
        now: DateTime<Utc>,
    ) -> Result<Permit, Vec<ReservationId>> {
        let mut book = self.book.lock().expect("client holds lock is never poisoned: no panics under it");
        for client in clients {
            let held = book.by_client.entry(client.clone()).or_default();
            held.retain(|t| t.expires_at > now);
            if held.iter().map(|t| t.quantity).sum::<u32>() + quantity > self.max_slots {
                return Err(held.iter().filter_map(|t| t.id).collect());
            }
        }
        if book.by_client.len() > TRACKED_CLIENTS_MAX {
            book.by_client.retain(|_, held| held.iter().any(|t| t.expires_at > now));
        }
        book.next_token += 1;
        let token = book.next_token;
        for client in clients {
            let pending = Tracked { id: None, token, quantity, expires_at: DateTime::<Utc>::MAX_UTC };
            book.by_client.entry(client.clone()).or_default().push(pending);
        }
        Ok(Permit { book: self.book.clone(), clients: clients.to_vec(), token })
    }

    /// Stops counting holds that have ended (confirmed, cancelled, expired).
    pub fn forget(&self, ended: &[ReservationId]) {
        let mut book = self.book.lock().expect("client holds lock is never poisoned");
        for held in book.by_client.values_mut() {
            held.retain(|t| t.id.is_none_or(|id| !ended.contains(&id)));
        }
    }
}

impl Permit {
    /// The hold was granted: count it until it expires.
    pub fn record(self, id: ReservationId, expires_at: DateTime<Utc>) {
        let mut book = self.book.lock().expect("client holds lock is never poisoned");
        for client in &self.clients {
            if let Some(t) = book.by_client.get_mut(client).and_then(|h| h.iter_mut().find(|t| t.token == self.token)) {
                t.id = Some(id);
                t.expires_at = expires_at;
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut book = self.book.lock().expect("client holds lock is never poisoned");
        for client in &self.clients {
            if let Some(held) = book.by_client.get_mut(client) {
                held.retain(|t| t.token != self.token || t.id.is_some());
            }
        }
    }
}
