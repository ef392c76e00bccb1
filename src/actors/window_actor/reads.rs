//! The window actor's read-only messages: counts (with their live version), one
//! reservation, the whole state.
//!
//! Kept apart from the deciding handlers because they change nothing; like every reply,
//! each waits until all state it reflects is durable (the actor's journal barrier).

use std::future::ready;
use std::time::Instant;

use actix::prelude::*;

use super::WindowActor;
use crate::actors::messages::{GetCounts, GetReservation, GetState, WindowError};
use crate::domain::{Rejection, ReservationView, Window, WindowCounts};

impl Handler<GetCounts> for WindowActor {
    type Result = ResponseFuture<Result<(WindowCounts, u64), WindowError>>;

    fn handle(&mut self, _: GetCounts, _: &mut Context<Self>) -> Self::Result {
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

impl Handler<GetReservation> for WindowActor {
    type Result = ResponseFuture<Result<ReservationView, WindowError>>;

    fn handle(&mut self, GetReservation(id): GetReservation, _: &mut Context<Self>) -> Self::Result {
        self.last_activity = Instant::now();
        let (now, prices) = (self.shared.clock.now(), self.prices());
        let view = self.state.window().and_then(|window| {
            let reservation = window.reservation(&id).ok_or(Rejection::UnknownReservation)?;
            Ok(window.view(reservation, &prices, now))
        });
        let durable = self.barrier();
        Box::pin(async move { durable.await.and(view) })
    }
}

impl Handler<GetState> for WindowActor {
    type Result = ResponseFuture<Result<Box<Window>, WindowError>>;

    fn handle(&mut self, _: GetState, _: &mut Context<Self>) -> Self::Result {
        self.last_activity = Instant::now();
        let state = self.state.window().map(|window| Box::new(window.clone()));
        let durable = self.barrier();
        Box::pin(async move { durable.await.and(state) })
    }
}
