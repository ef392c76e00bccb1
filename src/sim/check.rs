//! The invariants, checked after every step, after every recovery and at the end.
//!
//! - No hold beyond capacity: every event `decide` makes passes `audit` (the replay
//!   tool's check) and the window's committed slots stay within capacity on a grant
//!   (`Server::execute`).
//! - Nothing acknowledged is lost: every record whose answer went out is on the disk,
//!   byte for byte, after any crash, and every hold a customer was told about exists.
//! - Live state is the log's state: after each flush and each recovery, every window in
//!   memory has the same state digest as the replay of the durable log.
//! - Money: at most one live refund per payment at Stripe at any time; at the end each
//!   payment confirmed its reservation or was refunded, exactly once, and every refund
//!   owed was made at Stripe exactly once and recorded with Stripe's id.

use std::collections::BTreeMap;

use super::server::replay;
use super::world::World;
use crate::domain::{ReservationId, Window, WindowKey};
use crate::store::snapshot::state_digest;

/// Refunds still owed in the log as written (the `O` index the refund worker reads).
pub fn owed_refunds<'a>(
    records: impl Iterator<Item = &'a Vec<u8>>,
) -> Result<Vec<(WindowKey, ReservationId, String)>, String> {
    let mut owed = Vec::new();
    for (key, window) in replay(records)? {
        for r in window.reservations() {
            let open = r.refunds.iter().filter(|f| f.refund_id.is_none());
            owed.extend(open.map(|f| (key.clone(), r.id, f.payment_intent.clone())));
        }
    }
    Ok(owed)
}

/// After every step: Stripe never holds two refunds of one payment.
pub fn every_step(world: &World) -> Result<(), String> {
    match world.stripe.refunds.iter().find(|(_, refunds)| refunds.len() > 1) {
        Some((intent, refunds)) => {
            Err(format!("payment {intent} refunded {} times at Stripe: {refunds:?}", refunds.len()))
        }
        None => Ok(()),
    }
}

/// Every window in memory equals the replay of the durable log (by state digest).
pub fn live_matches_log(world: &World) -> Result<(), String> {
    if world.disk.has_unflushed() {
        return Ok(());
    }
    let replayed = replay(world.disk.durable().iter())?;
    for (key, live) in &world.server.windows {
        if !live.is_opened() && !replayed.contains_key(key) {
            continue; // loaded for a refused command; nothing written
        }
        let log = replayed.get(key).ok_or_else(|| format!("{key} is in memory but not in the log"))?;
        if digest(live) != digest(log) {
            return Err(format!("{key}: live state differs from the replay of the log\nlive: {live:?}\nlog:  {log:?}"));
        }
    }
    Ok(())
}

fn digest(window: &Window) -> String {
    state_digest([window])
}

/// After a crash and boot: acknowledged records and holds survived, and the recovered
/// state (snapshot + tail) is the log's.
pub fn after_recovery(world: &World) -> Result<(), String> {
    let durable = world.disk.durable();
    for (seq, bytes) in &world.acknowledged {
        if durable.get(*seq as usize - 1) != Some(bytes) {
            return Err(format!("acknowledged record {seq} lost or changed"));
        }
    }
    let replayed = replay(durable.iter())?;
    for hold in &world.holds {
        if replayed.get(&hold.key).and_then(|w| w.reservation(&hold.id)).is_none() {
            return Err(format!("acknowledged hold {} in {} lost", hold.id, hold.key));
        }
    }
    live_matches_log(world)
}

/// At the end, faults off and everything delivered: the money adds up.
pub fn money(world: &World) -> Result<(), String> {
    let windows: BTreeMap<WindowKey, Window> = replay(world.disk.durable().iter())?;
    for paid in &world.stripe.payments {
        let key = &world.window_of[&paid.reservation];
        let r = windows.get(key).and_then(|w| w.reservation(&paid.reservation)).ok_or("a paid reservation is gone")?;
        let confirmed = r.payment_ref.as_deref() == Some(paid.intent.as_str());
        let owed: Vec<_> = r.refunds.iter().filter(|f| f.payment_intent == paid.intent).collect();
        let at_stripe = world.stripe.refunds.get(&paid.intent).cloned().unwrap_or_default();
        let intent = &paid.intent;
        match (confirmed, owed.as_slice()) {
            (true, []) if at_stripe.is_empty() => {}
            (true, []) => {
                return Err(format!("payment {intent} confirmed its reservation and was refunded: {at_stripe:?}"));
            }
            (false, [refund]) => match &refund.refund_id {
                Some(id) if at_stripe == [id.clone()] => {}
                recorded => {
                    return Err(format!(
                        "payment {intent}: refund recorded {recorded:?}, made at Stripe {at_stripe:?}"
                    ));
                }
            },
            (false, []) => return Err(format!("payment {intent} neither confirmed nor refunded")),
            _ => {
                return Err(format!(
                    "payment {intent} counted more than once: confirmed {confirmed}, owed {}",
                    owed.len()
                ));
            }
        }
    }
    Ok(())
}
