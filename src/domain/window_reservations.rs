//! The reservations of one window, by id: a `BTreeMap` whose values are boxed.
//!
//! A B-tree node holds room for eleven entries inline, allocated in full even for one.
//! With `Reservation` inline that made a window with a single hold cost about 2.2 KiB
//! (most windows hold a few reservations; and the snapshotter keeps a second copy of
//! every live window). Boxed, a node holds eleven pointers and each reservation is one
//! allocation of its own size: about 0.5 KiB for a window with one hold, and no more
//! per reservation in a full window (nodes are 2/3 full on average, so inline entries
//! waste a third of their size). The methods mirror the `BTreeMap` ones the domain
//! uses, so callers read as before.

use std::collections::BTreeMap;
use std::ops::Index;

use super::{Reservation, ReservationId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ReservationMap(BTreeMap<ReservationId, Box<Reservation>>);

impl ReservationMap {
    pub(super) fn get(&self, id: &ReservationId) -> Option<&Reservation> {
        self.0.get(id).map(|r| &**r)
    }

    pub(super) fn get_mut(&mut self, id: &ReservationId) -> Option<&mut Reservation> {
        self.0.get_mut(id).map(|r| &mut **r)
    }

    pub(super) fn contains_key(&self, id: &ReservationId) -> bool {
        self.0.contains_key(id)
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Ordered by id, as the map's iteration always was.
    pub(super) fn values(&self) -> impl Iterator<Item = &Reservation> {
        self.0.values().map(|r| &**r)
    }

    /// Inserts `reservation` under `id`; the one it replaces, if any.
    pub(super) fn insert(&mut self, id: ReservationId, reservation: Reservation) -> Option<Reservation> {
        self.0.insert(id, Box::new(reservation)).map(|previous| *previous)
    }
}

impl Index<&ReservationId> for ReservationMap {
    type Output = Reservation;

    fn index(&self, id: &ReservationId) -> &Reservation {
        &self.0[id]
    }
}
