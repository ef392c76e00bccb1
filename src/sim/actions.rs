//! What happens in one step: customers reserve, pay, cancel or walk away; Stripe
//! delivers due webhooks; the refund worker makes a pass; timers fire; the journal
//! flushes; the snapshotter runs; an operator cuts capacity; the process is killed.
//!
//! Webhooks take the real path from bytes to command: the simulator signs the body
//! as Stripe would, and checks and parses it with the webhook's own functions.

use chrono::Duration;

use super::stripe::{Delivery, WEBHOOK_SECRET};
use super::world::{CrashPoint, Hold, Mutation, Waiter, World};
use crate::domain::{Checkout, Command, Payment, Price, PriceHistory, ReservationId, window_start_of};
use crate::limits::WINDOW_SECS;
use crate::stripe::{WebhookAction, event, signature};

/// One step: the clock moves on, then one thing happens.
pub fn step(world: &mut World) -> Result<(), String> {
    world.stats.steps += 1;
    world.now += Duration::milliseconds(world.rng.below(20_000) as i64);
    if world.fault(1) {
        // The system clock steps back (NTP); nothing may assume time only grows.
        world.now -= Duration::milliseconds(world.rng.below(30_000) as i64);
    }
    match world.rng.below(100) {
        0..27 => reserve(world),
        27..30 => checkout(world),
        30..42 => pay(world),
        42..47 => cancel(world),
        47..50 => abandon(world),
        50..65 => deliver_due(world),
        65..75 => refund_pass(world),
        75..92 => world.flush(),
        92..95 => expiry_timers(world),
        95..97 => world.snapshot(),
        97 => operator(world),
        _ if world.fault(50) => world.crash(CrashPoint::Kill),
        _ => world.flush(),
    }
}

fn reserve(world: &mut World) -> Result<(), String> {
    let venue = world.rng.pick(&world.venues).expect("the simulation has venues").clone();
    let ahead = Duration::seconds(WINDOW_SECS * world.rng.below(4) as i64);
    let key = crate::domain::WindowKey::new(venue.id.clone(), window_start_of(world.now) + ahead);
    let quantity = world.rng.between(1, 3) as u32;
    let id = ReservationId::from_uuid(world.rng.uuid());
    let amount = venue.price_minor * u64::from(quantity);
    let hold = Hold { id, key: key.clone(), amount, currency: venue.currency.clone() };
    let command = Command::PlaceHold {
        reservation_id: id,
        quantity,
        hold_ttl: venue.hold_ttl(),
        email: None,
        waitlist_offer_secs: None,
    };
    world.execute(&key, command, Waiter::Reserve(hold))
}

/// The customer pays (sometimes a wrong amount, sometimes a second time).
fn pay(world: &mut World) -> Result<(), String> {
    let Some(hold) = world.rng.pick(&world.holds).cloned() else { return Ok(()) };
    let amount = if world.rng.chance(10) { hold.amount + 1 } else { hold.amount };
    world.stripe.pay(&mut world.rng, world.now, hold.id, amount, &hold.currency);
    world.log(|| format!("paid {amount} for {} ({})", hold.id, hold.key));
    world.stats.payments += 1;
    Ok(())
}

fn cancel(world: &mut World) -> Result<(), String> {
    let Some(hold) = world.rng.pick(&world.holds).cloned() else { return Ok(()) };
    world.execute(&hold.key, Command::Cancel { reservation_id: hold.id }, Waiter::Nobody)
}

fn abandon(world: &mut World) -> Result<(), String> {
    let Some(hold) = world.rng.pick(&world.holds).cloned() else { return Ok(()) };
    world.stripe.expire_session(&mut world.rng, world.now, hold.id);
    Ok(())
}

pub fn deliver_due(world: &mut World) -> Result<(), String> {
    for delivery in world.stripe.take_due(&mut world.rng, world.now) {
        world.stats.deliveries += 1;
        world.log(|| format!("deliver {}", delivery.event_id));
        deliver(world, delivery)?;
    }
    Ok(())
}

/// `POST /v1/webhooks/stripe` for one delivery attempt.
fn deliver(world: &mut World, delivery: Delivery) -> Result<(), String> {
    let now = world.now.timestamp();
    let header = signature::sign(&delivery.body, WEBHOOK_SECRET, now);
    signature::verify(&delivery.body, &header, &[secrecy::SecretString::from(WEBHOOK_SECRET)], now, 300)
        .map_err(|e| format!("a correctly signed event was refused: {e}"))?;
    let action = event::action_for_payload(&delivery.body).map_err(|e| format!("Stripe's event refused: {e}"))?;
    let (id, command) = match action {
        WebhookAction::Confirm { reservation_id, session_id, payment_intent, amount_total, currency, .. } => {
            let id: ReservationId = reservation_id.parse().map_err(|_| "our reservation id does not parse")?;
            let payment = Payment {
                intent: payment_intent.unwrap_or(session_id),
                amount_minor: amount_total.and_then(|a| u64::try_from(a).ok()),
                currency,
            };
            let venue = world.venues.iter().find(|v| world.window_of.get(&id).is_some_and(|k| k.venue_id == v.id));
            let prices = PriceHistory::starting(Price::of(venue.ok_or("a paid reservation has a venue")?));
            (id, Command::RecordPayment { reservation_id: id, payment, prices })
        }
        WebhookAction::Release { reservation_id, .. } => {
            let id: ReservationId = reservation_id.parse().map_err(|_| "our reservation id does not parse")?;
            (id, Command::Cancel { reservation_id: id })
        }
        other => return Err(format!("the simulation sends no event that is {other:?}")),
    };
    let key = world.window_of.get(&id).cloned().ok_or("Stripe named a reservation nobody was told about")?;
    world.execute(&key, command, Waiter::Webhook(delivery))
}

/// The refund worker's pass (`payments::refunds`): for each refund still owed in the
/// log as written, look for one made earlier at Stripe, else make one under a stable
/// idempotency key, then record it.
pub fn refund_pass(world: &mut World) -> Result<(), String> {
    let mutation = world.mutation;
    let owed = super::check::owed_refunds(world.disk.written())?;
    // `RefundWorker::pass` makes the debts it read durable before acting on them.
    if mutation != Some(Mutation::RefundUndurableDebt) && world.disk.has_unflushed() {
        if world.fault(2) {
            return world.crash(CrashPoint::FlushFailed);
        }
        world.disk.flush();
    }
    for (key, id, intent) in owed {
        if world.rng.chance(20) || world.dropped.contains(&intent) {
            continue; // waiting out a backoff
        }
        let Ok(mut earlier) = world.stripe.list_refunds(&mut world.rng, &intent) else {
            if mutation == Some(Mutation::DropFailedRefund) {
                world.dropped.push(intent);
            }
            continue;
        };
        if mutation == Some(Mutation::RefundWithoutLooking) {
            earlier.clear();
        }
        let refund = match earlier.into_iter().next() {
            Some(existing) => existing,
            None => {
                let idempotency_key = format!("refund:{id}:{intent}");
                let created = world.stripe.create_refund(&mut world.rng, &intent, &idempotency_key);
                let Ok(refund) = created else { continue };
                refund
            }
        };
        world.log(|| format!("refund {refund} of {intent} at Stripe"));
        if world.fault(2) {
            return world.crash(CrashPoint::AfterRefundBeforeRecord);
        }
        world.stats.refunds += 1;
        let refund_ids = vec![refund];
        let command =
            Command::RecordRefund { reservation_id: id, payment_intent: intent, refund_ids, refunded_minor: None };
        world.execute(&key, command, Waiter::Nobody)?;
    }
    Ok(())
}

/// Window actors' expiry timers: `ExpireDue` for each window with a hold past expiry.
fn expiry_timers(world: &mut World) -> Result<(), String> {
    let now = world.now;
    let due: Vec<_> = world
        .server
        .windows
        .iter()
        .filter(|(_, w)| w.earliest_expiry().is_some_and(|at| at <= now))
        .map(|(k, _)| k.clone())
        .collect();
    for key in due {
        world.execute(&key, Command::ExpireDue, Waiter::Nobody)?;
    }
    Ok(())
}

/// An operator changes a window's capacity (a schedule change, possibly below what is
/// already committed) or releases a hold by hand.
fn operator(world: &mut World) -> Result<(), String> {
    if world.rng.chance(50) {
        let Some(hold) = world.rng.pick(&world.holds).cloned() else { return Ok(()) };
        let command = Command::Release { reservation_id: hold.id, by: "sim".into() };
        return world.execute(&hold.key, command, Waiter::Nobody);
    }
    let opened: Vec<_> = world.server.windows.iter().filter(|(_, w)| w.is_opened()).map(|(k, _)| k.clone()).collect();
    let Some(key) = world.rng.pick(&opened).cloned() else { return Ok(()) };
    let capacity = world.rng.below(5) as u32;
    world.execute(&key, Command::ChangeCapacity { capacity, by: "sim".into() }, Waiter::Nobody)
}

/// The checkout page of a hold opens (Stripe session recorded), or closes.
fn checkout(world: &mut World) -> Result<(), String> {
    let Some(hold) = world.rng.pick(&world.holds).cloned() else { return Ok(()) };
    let session_id = format!("cs_page_{}", hold.id.as_bytes()[0] % 4);
    let command = match world.rng.chance(70) {
        true => {
            let expires_at = world.now + Duration::minutes(30);
            let url = format!("https://checkout.example/{session_id}");
            let checkout = Checkout { session_id, url, expires_at, closed: false };
            Command::OpenCheckout { reservation_id: hold.id, checkout }
        }
        false => Command::CloseCheckout { reservation_id: hold.id, session_id },
    };
    world.execute(&hold.key, command, Waiter::Nobody)
}
