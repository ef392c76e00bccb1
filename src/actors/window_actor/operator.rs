//! The window actor's answers to operators (admin API): a schedule change and the list
//! of a window's reservations. Kept apart from the customer path in `window_actor`.

use std::future::ready;
use std::time::Instant;

use actix::prelude::*;

use super::super::messages::{Execute, ListReservations, Reschedule, WindowError};
use super::WindowActor;
use crate::domain::{Command, ReservationView, WindowCounts};

impl Handler<Reschedule> for WindowActor {
    type Result = ResponseFuture<Result<WindowCounts, WindowError>>;

    fn handle(&mut self, Reschedule { capacity, by }: Reschedule, ctx: &mut Context<Self>) -> Self::Result {
        let _span = tracing::debug_span!("window", venue = %self.key.venue_id, start = %self.key.start).entered();
        self.last_activity = Instant::now();
        let now = self.shared.clock.now();
        let window = match self.state.window() {
            Ok(window) => window,
            Err(error) => return Box::pin(ready(Err(error))),
        };
        if !window.is_opened() {
            // No events yet: nothing to record, the window opens with the new capacity.
            window.reschedule_unopened(capacity);
            self.scheduled_capacity = capacity;
            let counts = window.counts_at(now);
            self.live.version = self.shared.live.next_version();
            self.live.counts(self.last_ticket, counts, None);
            self.publish_when_durable(ctx);
            let durable = self.barrier();
            return Box::pin(async move { durable.await.map(|()| counts) });
        }
        let reply = self.execute(Execute { command: Command::ChangeCapacity { capacity, by }, idempotency: None }, now);
        self.rearm_expiry_timer(ctx);
        self.publish_when_durable(ctx);
        let counts = self.state.window().map(|window| window.counts_at(now));
        Box::pin(async move { reply.await.and(counts) })
    }
}

impl Handler<ListReservations> for WindowActor {
    type Result = ResponseFuture<Result<(WindowCounts, Vec<ReservationView>), WindowError>>;

    fn handle(&mut self, _: ListReservations, _: &mut Context<Self>) -> Self::Result {
        self.last_activity = Instant::now();
        let (now, prices) = (self.shared.clock.now(), self.prices());
        let listed = self.state.window().map(|window| {
            let views = window.views(&prices, now);
            (window.counts_at(now), views)
        });
        let durable = self.barrier();
        Box::pin(async move { durable.await.and(listed) })
    }
}
