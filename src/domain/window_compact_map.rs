//! An ordered map that stays a sorted `Vec` while small and becomes a `BTreeMap` when
//! it grows: the representation of a window's reservations and expiry queue.
//!
//! Most live windows hold a few reservations; with 100,000 of them live, what one
//! entry costs is what a window costs. A `BTreeMap` allocates a whole node (room for
//! eleven entries) even for one entry, where the `Vec` allocates room for exactly one
//! at first. Past [`FEW_MAX`] entries (a hot window) the map moves to the `BTreeMap`,
//! so an insert or a removal never moves more than `FEW_MAX` entries; it moves back
//! only once empty. Which form holds the entries is not part of the value: equality
//! and `Debug` see only the ordered entries.

use std::collections::BTreeMap;

/// Entries kept in the sorted `Vec` before the map moves to a `BTreeMap`.
const FEW_MAX: usize = 32;

#[derive(Clone)]
pub(super) enum CompactMap<K, V> {
    Few(Vec<(K, V)>),
    Many(BTreeMap<K, V>),
}

impl<K, V> Default for CompactMap<K, V> {
    fn default() -> Self {
        Self::Few(Vec::new())
    }
}

impl<K: Ord, V> CompactMap<K, V> {
    pub(super) fn get(&self, key: &K) -> Option<&V> {
        match self {
            Self::Few(entries) => entries.binary_search_by(|(k, _)| k.cmp(key)).ok().map(|at| &entries[at].1),
            Self::Many(map) => map.get(key),
        }
    }

    pub(super) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match self {
            Self::Few(entries) => {
                let at = entries.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
                Some(&mut entries[at].1)
            }
            Self::Many(map) => map.get_mut(key),
        }
    }

    pub(super) fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Self::Few(entries) => entries.len(),
            Self::Many(map) => map.len(),
        }
    }

    /// Inserts `value` under `key`; the value it replaces, if any.
    pub(super) fn insert(&mut self, key: K, value: V) -> Option<V> {
        let entries = match self {
            Self::Many(map) => return map.insert(key, value),
            Self::Few(entries) => entries,
        };
        match entries.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => Some(std::mem::replace(&mut entries[at].1, value)),
            Err(_) if entries.len() >= FEW_MAX => {
                let mut map: BTreeMap<K, V> = entries.drain(..).collect();
                map.insert(key, value);
                *self = Self::Many(map);
                None
            }
            Err(at) => {
                if entries.capacity() == 0 {
                    // Room for one: most windows never hold a second entry.
                    entries.reserve_exact(1);
                }
                entries.insert(at, (key, value));
                None
            }
        }
    }

    /// Removes the entry under `key`; its value, if it was there.
    pub(super) fn remove(&mut self, key: &K) -> Option<V> {
        let removed = match self {
            Self::Few(entries) => {
                let at = entries.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
                Some(entries.remove(at).1)
            }
            Self::Many(map) => map.remove(key),
        };
        if self.len() == 0 {
            // A window whose entries all ended gives their memory back.
            *self = Self::default();
        }
        removed
    }

    /// The entry with the smallest key.
    pub(super) fn first(&self) -> Option<(&K, &V)> {
        match self {
            Self::Few(entries) => entries.first().map(|(k, v)| (k, v)),
            Self::Many(map) => map.first_key_value(),
        }
    }

    /// In key order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let (few, many) = match self {
            Self::Few(entries) => (Some(entries.iter().map(|(k, v)| (k, v))), None),
            Self::Many(map) => (None, Some(map.iter())),
        };
        few.into_iter().flatten().chain(many.into_iter().flatten())
    }
}

impl<K: Ord + PartialEq, V: PartialEq> PartialEq for CompactMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Eq, V: Eq> Eq for CompactMap<K, V> {}

impl<K: Ord + std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for CompactMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_btree_map_across_both_forms() {
        let (mut map, mut reference) = (CompactMap::default(), BTreeMap::new());
        // Keys out of order, some twice, past FEW_MAX and back to empty.
        for n in (0..100u32).map(|n| (n * 37) % 101) {
            assert_eq!(map.insert(n, n * 2), reference.insert(n, n * 2));
            assert_eq!(map.insert(n, n * 3), reference.insert(n, n * 3), "a key is replaced, not added");
            assert!(map.iter().eq(reference.iter()), "after inserting {n}");
            assert_eq!(map.first(), reference.first_key_value());
        }
        assert!(matches!(map, CompactMap::Many(_)), "a big map moves to the B-tree");
        assert_eq!(map.len(), reference.len());
        *map.get_mut(&37).expect("present") = 7;
        *reference.get_mut(&37).expect("present") = 7;
        for n in 0..102u32 {
            assert_eq!(map.get(&n), reference.get(&n));
            assert_eq!(map.contains_key(&n), reference.contains_key(&n));
            assert_eq!(map.remove(&n), reference.remove(&n));
            assert_eq!(map.remove(&n), None, "removed once");
        }
        assert!(matches!(map, CompactMap::Few(ref v) if v.capacity() == 0), "an empty map holds no memory");
    }

    #[test]
    fn the_form_is_not_part_of_the_value() {
        let few = CompactMap::Few(vec![(1, 'a'), (2, 'b')]);
        let many = CompactMap::Many(BTreeMap::from([(1, 'a'), (2, 'b')]));
        assert_eq!(few, many);
        assert_eq!(format!("{few:?}"), format!("{many:?}"));
        assert_ne!(few, CompactMap::Few(vec![(1, 'a')]));
    }
}
