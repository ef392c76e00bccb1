//! The window actor's side of live updates: releasing its outbox once durable, and
//! the versioned counts a live stream starts from.

use std::future::ready;
use std::time::Instant;

use actix::prelude::*;

use super::super::messages::{GetLiveCounts, WindowError};
use super::WindowActor;
use crate::domain::WindowCounts;

impl WindowActor {
    /// Publishes the outbox once what it waits for is durable. A spawned future, not a
    /// wait: the actor goes on deciding meanwhile, and never waits for a subscriber.
    /// At most one such future per actor (actix polls every future spawned in a
    /// context on each wake-up, so one per message would cost a hot window dearly);
    /// what is queued meanwhile goes with the next round.
    pub(super) fn publish_when_durable(&mut self, ctx: &mut Context<Self>) {
        let Some(ticket) = self.live.start_waiting() else { return };
        let durable = self.shared.journal.wait_durable(ticket);
        ctx.spawn(durable.into_actor(self).map(|_, actor, ctx| {
            actor.live.release(&actor.key, &actor.shared);
            actor.publish_when_durable(ctx);
        }));
    }
}

impl Handler<GetLiveCounts> for WindowActor {
    type Result = ResponseFuture<Result<(WindowCounts, u64), WindowError>>;

    fn handle(&mut self, _: GetLiveCounts, _: &mut Context<Self>) -> Self::Result {
        self.last_activity = Instant::now();
        let now = self.shared.clock.now();
        let (counts, version) = match self.state.window() {
            Ok(window) => (window.counts_at(now), self.live.version),
            Err(error) => return Box::pin(ready(Err(error))),
        };
        let durable = self.barrier();
        Box::pin(async move { durable.await.map(|()| (counts, version)) })
    }
}
