//! Recent notable outcomes per venue for the admin dashboard: sold-out refusals, late
//! payments, refunds owed and issued.
//!
//! Window actors record them here once the decision is durable (as with live counts).
//! The ring per venue is bounded ([`ACTIVITY_PER_VENUE_MAX`]) and lives in memory only:
//! it is a convenience view, the event log stays the truth (refusals are not events,
//! so after a restart the ring starts empty).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::domain::{Command, RefundReason, Rejection, ReservationId, VenueId, WindowEvent, WindowKey};
use crate::limits::ACTIVITY_PER_VENUE_MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityKind {
    /// A hold of `requested` slots was refused with `available` left.
    SoldOut { requested: u32, available: u32 },
    /// A payment arrived after its hold had ended and still got a slot.
    LatePayment { reservation_id: ReservationId },
    /// A payment must go back.
    RefundOwed { reservation_id: ReservationId, reason: RefundReason, amount_minor: Option<u64> },
    /// The provider accepted a refund.
    RefundIssued { reservation_id: ReservationId, refund_id: String },
    /// The refund worker gave up on a refund: an operator must retry it.
    RefundFailed { reservation_id: ReservationId, error: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub at: DateTime<Utc>,
    pub window_start: DateTime<Utc>,
    pub kind: ActivityKind,
}

impl Activity {
    /// A sold-out refusal of a hold is notable; other refusals are not.
    pub fn of_refusal(key: &WindowKey, command: &Command, rejection: &Rejection, at: DateTime<Utc>) -> Vec<Self> {
        match (command, rejection) {
            (Command::PlaceHold { quantity, .. }, Rejection::SoldOut { available }) => {
                let kind = ActivityKind::SoldOut { requested: *quantity, available: *available };
                vec![Self { at, window_start: key.start, kind }]
            }
            _ => Vec::new(),
        }
    }

    /// The notable outcomes among a decision's events.
    pub fn of_events(key: &WindowKey, events: &[WindowEvent], at: DateTime<Utc>) -> Vec<Self> {
        let kinds = events.iter().filter_map(|event| match event {
            WindowEvent::HoldConfirmed { reservation_id, late: true, .. } => {
                Some(ActivityKind::LatePayment { reservation_id: *reservation_id })
            }
            WindowEvent::RefundOwed { reservation_id, reason, amount_minor, .. } => Some(ActivityKind::RefundOwed {
                reservation_id: *reservation_id,
                reason: *reason,
                amount_minor: *amount_minor,
            }),
            WindowEvent::RefundIssued { reservation_id, refund_id, .. } => {
                Some(ActivityKind::RefundIssued { reservation_id: *reservation_id, refund_id: refund_id.clone() })
            }
            WindowEvent::RefundSettled { reservation_id, refund_ids, .. } => {
                Some(ActivityKind::RefundIssued { reservation_id: *reservation_id, refund_id: refund_ids.join(",") })
            }
            WindowEvent::RefundFailed { reservation_id, error, .. } => {
                Some(ActivityKind::RefundFailed { reservation_id: *reservation_id, error: error.clone() })
            }
            _ => None,
        });
        kinds.map(|kind| Self { at, window_start: key.start, kind }).collect()
    }
}

/// Cheap to clone: every clone is the same log.
#[derive(Clone, Default)]
pub struct ActivityLog {
    venues: Arc<Mutex<HashMap<VenueId, VecDeque<Activity>>>>,
}

impl ActivityLog {
    pub fn record(&self, venue: &VenueId, activity: Activity) {
        let mut venues = self.venues.lock().expect("activity lock is never poisoned: no panics under it");
        let ring = venues.entry(venue.clone()).or_default();
        if ring.len() == ACTIVITY_PER_VENUE_MAX {
            ring.pop_front();
        }
        ring.push_back(activity);
    }

    /// The venue's recent activity, newest first.
    pub fn recent(&self, venue: &VenueId) -> Vec<Activity> {
        let venues = self.venues.lock().expect("activity lock is never poisoned");
        venues.get(venue).map(|ring| ring.iter().rev().cloned().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn refunds_and_late_payments_are_notable_other_events_are_not() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 12, 5, 0).single().expect("valid");
        let key = WindowKey::new(VenueId::parse("bar").expect("valid"), at - chrono::Duration::minutes(5));
        let id = ReservationId::from_uuid(uuid::Uuid::from_u128(7));
        let events = [
            WindowEvent::HoldConfirmed { reservation_id: id, payment_ref: "pi".into(), confirmed_at: at, late: false },
            WindowEvent::HoldConfirmed { reservation_id: id, payment_ref: "pi".into(), confirmed_at: at, late: true },
            WindowEvent::RefundOwed {
                reservation_id: id,
                payment_intent: "pi".into(),
                amount_minor: Some(500),
                currency: Some("eur".into()),
                reason: RefundReason::SoldOut,
                owed_at: at,
            },
            WindowEvent::RefundIssued {
                reservation_id: id,
                payment_intent: "pi".into(),
                refund_id: "re_1".into(),
                issued_at: at,
            },
        ];
        let kinds: Vec<_> = Activity::of_events(&key, &events, at).into_iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                ActivityKind::LatePayment { reservation_id: id },
                ActivityKind::RefundOwed { reservation_id: id, reason: RefundReason::SoldOut, amount_minor: Some(500) },
                ActivityKind::RefundIssued { reservation_id: id, refund_id: "re_1".into() },
            ]
        );
        let log = ActivityLog::default();
        for n in 0..=ACTIVITY_PER_VENUE_MAX as u32 {
            let kind = ActivityKind::SoldOut { requested: n, available: 0 };
            log.record(&key.venue_id, Activity { at, window_start: key.start, kind });
        }
        let recent = log.recent(&key.venue_id);
        assert_eq!(recent.len(), ACTIVITY_PER_VENUE_MAX, "the ring is bounded");
        let newest = ActivityKind::SoldOut { requested: ACTIVITY_PER_VENUE_MAX as u32, available: 0 };
        assert_eq!(recent[0].kind, newest, "newest first");
    }
}
