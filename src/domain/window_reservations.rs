//! The reservations of one window, by id, each boxed, in a [`CompactMap`].
//!
//! With `Reservation` inline in a `BTreeMap`, a window with a single hold cost about
//! 2.2 KiB (a node has room for eleven entries, allocated in full even for one), and
//! the snapshotter keeps a second copy of every live window. In a small sorted `Vec`
//! of boxes, one reservation costs its own size and 24 bytes; a full window costs no
//! more per reservation than inline entries did (B-tree nodes are 2/3 full on
//! average). The methods mirror the `BTreeMap` ones the domain uses.

use std::ops::Index;

use super::window_compact_map::CompactMap;
use super::{Reservation, ReservationId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ReservationMap(CompactMap<ReservationId, Box<Reservation>>);

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
        self.0.iter().map(|(_, r)| &**r)
    }

    /// Inserts `reservation` under `id`; the one it replaces, if any.
    pub(super) fn insert(&mut self, id: ReservationId, reservation: Reservation) -> Option<Reservation> {
        self.0.insert(id, Box::new(reservation)).map(|previous| *previous)
    }
}

impl Index<&ReservationId> for ReservationMap {
    type Output = Reservation;

    fn index(&self, id: &ReservationId) -> &Reservation {
        self.get(id).expect("indexed reservations exist")
    }
}
