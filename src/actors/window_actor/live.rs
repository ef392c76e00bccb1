//! The window actor's side of live updates: releasing its outbox once durable.

use actix::prelude::*;

use super::WindowActor;

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
