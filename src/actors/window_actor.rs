//! One actor per (venue, window): the only code that changes a window's state.
//!
//! For each message: read `now`, `decide`, `apply` in memory, hand the events to the
//! journal, and reply only when the journal says they are durable. The handler returns
//! as soon as the events are submitted, so the actor already decides the next message
//! against the applied state (pipelining) while the journal batches the flush: a hot
//! window is not limited to one fsync per request. Every reply - refusals and reads too
//! - waits until all state it could reflect is durable.
//!
//! Live counts and admin activity are published the same way: queued with their
//! journal ticket in a [`LiveOutbox`] and released once durable.

mod live;
mod operator;

use std::future::{Future, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::Shared;
use super::activity::Activity;
use super::live_outbox::LiveOutbox;
use super::messages::{Execute, IdempotencyTag, WindowError};
use crate::domain::{Command, PriceHistory, Rejection, ReservationView, Window, WindowEvent, WindowKey};
use crate::limits::{ACTOR_MAILBOX_CAPACITY, EXPIRY_TIMER_SLACK_MS};
use crate::store::codec::{Encoded, RecordTooLarge};
use crate::store::snapshot::state::fold_window;
use crate::store::{IdempotencyEntry, IdempotentOutcome, JournalError, Record, StoreError};
use crate::telemetry::WindowMetrics;

mod reads;

enum State {
    Recovering,
    Ready(Box<Window>),
    /// The window's log could not be loaded; it refuses service rather than guess.
    /// Boxed: a rare state, and inline it would make every live actor 48 bytes larger.
    Failed(Box<WindowError>),
}

impl State {
    fn window(&mut self) -> Result<&mut Window, WindowError> {
        match self {
            State::Ready(window) => Ok(window),
            State::Failed(error) => Err((**error).clone()),
            State::Recovering => unreachable!("ctx.wait holds messages back until recovery ends"),
        }
    }
}

pub struct WindowActor {
    key: WindowKey,
    /// Capacity from today's schedule, used only if the window has no events yet.
    scheduled_capacity: u32,
    state: State,
    /// One per registry, shared by its actors (inline it is ~200 bytes and a path).
    shared: Arc<Shared>,
    /// Journal ticket of this actor's latest submission: replies wait for it.
    last_ticket: u64,
    expiry_timer: Option<(DateTime<Utc>, SpawnHandle)>,
    /// When the last message arrived: a finished window stops after `actor_idle`.
    last_activity: Instant,
    metrics: WindowMetrics,
    live: LiveOutbox,
}

type Reply<T> = Pin<Box<dyn Future<Output = Result<T, WindowError>>>>;

fn unavailable(error: JournalError) -> WindowError {
    match error {
        JournalError::RecordTooLarge(too_large) => WindowError::RecordTooLarge(too_large.bytes),
        other => WindowError::Unavailable(other.to_string()),
    }
}

impl WindowActor {
    pub fn new(key: WindowKey, scheduled_capacity: u32, shared: Arc<Shared>) -> Self {
        let (last_activity, metrics) = (Instant::now(), WindowMetrics::new(&key));
        let live = LiveOutbox::starting_at(shared.live.next_version());
        Self {
            metrics,
            key,
            scheduled_capacity,
            state: State::Recovering,
            shared,
            last_ticket: 0,
            expiry_timer: None,
            last_activity,
            live,
        }
    }

    /// An actor that starts with its state already recovered (from a snapshot and the
    /// log tail at start-up) instead of reading its own events.
    pub fn with_state(window: Window, shared: Arc<Shared>) -> Self {
        let capacity = window.capacity();
        let mut actor = Self::new(window.key().clone(), capacity, shared);
        actor.state = State::Ready(Box::new(window));
        actor.show_recovered_counts();
        actor
    }

    /// Leaves the counts of an opened window's recovered state (read from the log, so
    /// durable) in the read view.
    fn show_recovered_counts(&self) {
        if let State::Ready(window) = &self.state
            && window.is_opened()
        {
            let counts = window.counts_at(self.shared.clock.now());
            self.shared.view.publish(&self.key, counts, self.live.version, window.earliest_expiry());
        }
    }

    /// Folds the window's own events on the blocking pool (sled reads block), checking
    /// each: an unreadable or illegal record makes the window refuse service.
    fn recover(&mut self, ctx: &mut Context<Self>) {
        let (log, key, capacity) = (self.shared.log.clone(), self.key.clone(), self.scheduled_capacity);
        let load = tokio::task::spawn_blocking(move || -> Result<Window, WindowError> {
            let corrupt = |seq, reason| WindowError::Corrupt { window: key.to_string(), seq, reason };
            let events = log.window_events_through(&key, u64::MAX).map_err(|e| match e {
                StoreError::Corrupt { seq, source } => corrupt(seq, source.to_string()),
                other => WindowError::Unavailable(other.to_string()),
            })?;
            if events.is_empty() {
                return Ok(Window::unopened(key, capacity));
            }
            fold_window(&key, events).map_err(|(seq, reason)| corrupt(seq, reason))
        });
        ctx.wait(load.into_actor(self).map(|loaded, actor, ctx| {
            actor.state = match loaded {
                Ok(Ok(window)) => State::Ready(Box::new(window)),
                Ok(Err(error)) => State::Failed(Box::new(error)),
                Err(panic) => {
                    State::Failed(Box::new(WindowError::Unavailable(format!("window recovery failed: {panic}"))))
                }
            };
            if let State::Failed(error) = &actor.state {
                tracing::error!(window = %actor.key, %error, "window refuses service");
            }
            actor.show_recovered_counts();
            actor.rearm_expiry_timer(ctx);
        }));
    }

    /// Submits records and remembers the ticket; the future resolves once durable.
    fn persist(
        &mut self,
        records: Result<Vec<Encoded>, RecordTooLarge>,
    ) -> impl Future<Output = Result<(), WindowError>> + use<> {
        let (ticket, durable) = self.shared.journal.append_encoded(records);
        self.last_ticket = ticket;
        async move { durable.await.map_err(unavailable) }
    }

    /// Resolves once everything this actor has submitted is durable.
    fn barrier(&self) -> impl Future<Output = Result<(), WindowError>> + use<> {
        let durable = self.shared.journal.wait_durable(self.last_ticket);
        async move { durable.await.map_err(unavailable) }
    }

    /// The venue's price history, which fixes what each reservation costs.
    fn prices(&self) -> std::sync::Arc<PriceHistory> {
        self.shared.prices.of(&self.key.venue_id).expect("a window exists only for a registered venue")
    }

    fn execute(&mut self, msg: Execute, now: DateTime<Utc>) -> Reply<Option<ReservationView>> {
        let prices = self.prices();
        let window = match self.state.window() {
            Ok(window) => window,
            Err(error) => return Box::pin(ready(Err(error))),
        };
        let events = match window.decide(&msg.command, now) {
            Ok(events) => events,
            Err(rejection) => {
                if matches!(msg.command, Command::PlaceHold { .. }) {
                    self.metrics.record_reserve_attempt(Some(&rejection));
                }
                let refused = Activity::of_refusal(&self.key, &msg.command, &rejection, now);
                let reply = self.refuse(rejection, msg.idempotency, now);
                self.live.activity(self.last_ticket, refused);
                return reply;
            }
        };
        // Encoded before anything is applied: a record that cannot be stored refuses
        // this one command and leaves the window as it was (memory never ahead of the
        // log). The journal writes these bytes as they are.
        let records = match encode_records(&self.key, &events, &msg, now) {
            Ok(records) => records,
            Err(too_large) => {
                tracing::warn!(window = %self.key, %too_large, "command refused: its record would be too large");
                return Box::pin(ready(Err(WindowError::RecordTooLarge(too_large.bytes))));
            }
        };
        for event in &events {
            debug_assert_eq!(window.audit(event), Ok(()), "{}: decide produced an illegal event", window.key());
            window.apply(event);
            if let WindowEvent::HoldConfirmed { reservation_id, confirmed_at, .. } = event {
                let placed_at = window.reservation(reservation_id).expect("confirmed reservations exist").placed_at;
                self.metrics.record_hold_to_payment(placed_at, *confirmed_at);
            }
        }
        self.metrics.record_events(&events);
        self.metrics.record_waitlist(&events, window);
        let (counts, activity) = (window.counts_at(now), Activity::of_events(&self.key, &events, now));
        // Only an opened window's counts go to the read view: an unopened one is read
        // from its schedule, which may change without reaching this actor.
        let next_expiry = window.is_opened().then(|| window.earliest_expiry());
        self.metrics.set_overcommitted(counts.overcommitted);
        self.metrics.set_held(counts.held);
        if !events.is_empty() {
            self.live.version = self.shared.live.next_version();
        }
        if matches!(msg.command, Command::PlaceHold { .. }) {
            self.metrics.record_reserve_attempt(None);
        }
        let view = msg.command.reservation_id().map(|id| {
            let reservation = window.reservation(&id).expect("a command that succeeded names a known reservation");
            window.view(reservation, &prices, now)
        });
        let durable = match records.is_empty() {
            true => Box::pin(self.barrier()) as Pin<Box<dyn Future<Output = _>>>,
            false => Box::pin(self.persist(Ok(records))),
        };
        self.live.counts(self.last_ticket, counts, next_expiry);
        self.live.activity(self.last_ticket, activity);
        Box::pin(async move { durable.await.map(|()| view) })
    }

    /// A refusal is an answer too: it is sent only once the state it was based on is
    /// durable, and a keyed sold-out answer is recorded so that a retry gets it again.
    fn refuse(
        &mut self,
        rejection: Rejection,
        tag: Option<IdempotencyTag>,
        now: DateTime<Utc>,
    ) -> Reply<Option<ReservationView>> {
        let durable = match (tag, &rejection) {
            (Some(tag), Rejection::SoldOut { available }) => {
                let record = idempotency_record(tag, IdempotentOutcome::SoldOut { available: *available });
                Box::pin(self.persist(Encoded::new(now, record).map(|encoded| vec![encoded])))
                    as Pin<Box<dyn Future<Output = _>>>
            }
            _ => Box::pin(self.barrier()),
        };
        Box::pin(async move { durable.await.and(Err(WindowError::Rejected(rejection))) })
    }

    /// Makes sure a timer fires at the earliest hold expiry, and only one.
    fn rearm_expiry_timer(&mut self, ctx: &mut Context<Self>) {
        let State::Ready(window) = &self.state else { return };
        let next = window.earliest_expiry();
        if self.expiry_timer.as_ref().map(|(at, _)| *at) == next {
            return;
        }
        if let Some((_, handle)) = self.expiry_timer.take() {
            ctx.cancel_future(handle);
        }
        if let Some(at) = next {
            let delay = (at - self.shared.clock.now()).to_std().unwrap_or_default()
                + StdDuration::from_millis(EXPIRY_TIMER_SLACK_MS);
            let handle = ctx.run_later(delay, |actor, ctx| {
                actor.expiry_timer = None;
                let now = actor.shared.clock.now();
                // The outcome needs no reply; a journal failure stops the process anyway.
                let durable = actor.execute(Execute { command: Command::ExpireDue, idempotency: None }, now);
                ctx.spawn(durable.into_actor(actor).map(|_, _, _| ()));
                actor.rearm_expiry_timer(ctx);
                actor.publish_when_durable(ctx);
            });
            self.expiry_timer = Some((at, handle));
        }
    }
}

impl WindowActor {
    /// Stops the actor when its window can change no more by itself - ended, no live
    /// hold, nothing waiting for the journal - and nobody asked anything for a while.
    /// Its state is exactly its events, so a later message revives it unchanged.
    fn passivate_if_idle(&mut self, ctx: &mut Context<Self>) {
        let now = self.shared.clock.now();
        let finished = match &self.state {
            State::Ready(window) if window.earliest_expiry().is_some_and(|at| at <= now) => {
                // Log the expiries first (the timer may not have run, e.g. under a
                // test clock); the next tick can then stop the actor.
                let durable = self.execute(Execute { command: Command::ExpireDue, idempotency: None }, now);
                ctx.spawn(durable.into_actor(self).map(|_, _, _| ()));
                self.publish_when_durable(ctx);
                false
            }
            State::Ready(window) => now >= window.key().end() && window.earliest_expiry().is_none(),
            State::Failed(_) => true,
            State::Recovering => false,
        };
        let idle = self.last_activity.elapsed() >= self.shared.actor_idle;
        let published = !self.live.is_pending();
        if finished && idle && published && self.shared.journal.is_durable(self.last_ticket) {
            tracing::debug!(window = %self.key, "passivating finished window");
            ctx.stop();
        }
        self.shared.passivation_checks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The records of `events` (and the command's idempotency record), encoded; an error
/// when one would not fit in a log record.
fn encode_records(
    key: &WindowKey,
    events: &[WindowEvent],
    msg: &Execute,
    now: DateTime<Utc>,
) -> Result<Vec<Encoded>, RecordTooLarge> {
    let mut records = Vec::with_capacity(events.len() + 1);
    for event in events {
        records.push(Encoded::new(now, Record::Window(key.clone(), event.clone()))?);
    }
    if let (Some(tag), Command::PlaceHold { reservation_id, .. }) = (&msg.idempotency, &msg.command) {
        let outcome = IdempotentOutcome::Reserved { window: key.clone(), reservation_id: *reservation_id };
        records.push(Encoded::new(now, idempotency_record(tag.clone(), outcome))?);
    }
    Ok(records)
}

fn idempotency_record(tag: IdempotencyTag, outcome: IdempotentOutcome) -> Record {
    Record::Idempotency(IdempotencyEntry { key: tag.key, venue_id: tag.venue_id, request: tag.request, outcome })
}

impl Actor for WindowActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(ACTOR_MAILBOX_CAPACITY);
        match self.state {
            State::Recovering => self.recover(ctx),
            _ => self.rearm_expiry_timer(ctx),
        }
        ctx.run_interval(self.shared.actor_idle, Self::passivate_if_idle);
    }
}

impl Handler<Execute> for WindowActor {
    type Result = ResponseFuture<Result<Option<ReservationView>, WindowError>>;

    fn handle(&mut self, msg: Execute, ctx: &mut Context<Self>) -> Self::Result {
        let reservation = msg.command.reservation_id();
        let _span =
            tracing::debug_span!("window", venue = %self.key.venue_id, start = %self.key.start, ?reservation).entered();
        self.last_activity = Instant::now();
        let now = self.shared.clock.now();
        let reply = self.execute(msg, now);
        self.rearm_expiry_timer(ctx);
        self.publish_when_durable(ctx);
        reply
    }
}
