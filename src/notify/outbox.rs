//! The dev outbox: without an SMTP server, offer e-mails of the dev payment mode are
//! kept here (newest last, at most `NOTIFY_OUTBOX_MAX`) and shown at `/dev/outbox`.
//! Memory only, like the dev payment page: a restart empties it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::mail::OfferMail;
use crate::limits::NOTIFY_OUTBOX_MAX;

/// One message as it would have been sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxEntry {
    pub sent_at: DateTime<Utc>,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Cheap to clone: every clone is the same outbox.
#[derive(Clone, Default)]
pub struct DevOutbox {
    messages: Arc<Mutex<VecDeque<OutboxEntry>>>,
}

impl DevOutbox {
    pub fn push(&self, mail: &OfferMail, sent_at: DateTime<Utc>) {
        let mut messages = self.messages.lock().expect("outbox lock is never poisoned: no panics under it");
        if messages.len() == NOTIFY_OUTBOX_MAX {
            messages.pop_front();
        }
        let entry =
            OutboxEntry { sent_at, to: mail.to.clone(), subject: mail.subject.clone(), body: mail.body.clone() };
        messages.push_back(entry);
    }

    /// The messages, newest first.
    pub fn recent(&self) -> Vec<OutboxEntry> {
        let messages = self.messages.lock().expect("outbox lock is never poisoned");
        messages.iter().rev().cloned().collect()
    }
}
