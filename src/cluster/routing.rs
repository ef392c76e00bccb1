//! The routing table every node keeps: live nodes, and each shard's owner with its
//! fencing token, as of one etcd revision.
//!
//! It is built from one read of the cluster's keys and then moved forward by the watch,
//! event by event, so every node's table converges on the same content as etcd. It is a
//! belief, not ownership: only an etcd compare on the token (fenced commits) proves a
//! node still owns a shard when it writes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::hash::shard_of;
use super::keys::{ClusterKey, Keys};

/// What a node publishes about itself under `P/nodes/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NodeRecord {
    pub advertise_url: String,
}

/// The owner of one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub node_id: String,
    /// `create_revision` of the owner key: grows with every new ownership.
    pub token: i64,
}

/// Where a venue's requests go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub shard: u32,
    pub node_id: String,
    /// `None` while the owner's node key is not (yet) seen.
    pub advertise_url: Option<String>,
    pub token: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingTable {
    shards: u32,
    /// The etcd revision the table reflects.
    pub revision: i64,
    pub nodes: BTreeMap<String, NodeRecord>,
    owners: BTreeMap<u32, Owner>,
}

impl RoutingTable {
    pub fn new(shards: u32) -> Self {
        Self { shards, revision: 0, nodes: BTreeMap::new(), owners: BTreeMap::new() }
    }

    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// A key was created or changed (`value`, created at `create_revision`).
    pub fn put(&mut self, keys: &Keys, key: &[u8], value: &[u8], create_revision: i64) {
        match keys.parse(key) {
            Some(ClusterKey::Node(id)) => match serde_json::from_slice::<NodeRecord>(value) {
                Ok(record) => drop(self.nodes.insert(id, record)),
                Err(error) => tracing::warn!(node = id, %error, "ignoring an unreadable node record"),
            },
            Some(ClusterKey::Owner(shard)) if shard < self.shards => {
                let node_id = String::from_utf8_lossy(value).into_owned();
                self.owners.insert(shard, Owner { node_id, token: create_revision });
            }
            _ => {}
        }
    }

    /// A key was deleted (or its lease ended).
    pub fn delete(&mut self, keys: &Keys, key: &[u8]) {
        match keys.parse(key) {
            Some(ClusterKey::Node(id)) => drop(self.nodes.remove(&id)),
            Some(ClusterKey::Owner(shard)) => drop(self.owners.remove(&shard)),
            None => {}
        }
    }

    pub fn owner(&self, shard: u32) -> Option<&Owner> {
        self.owners.get(&shard)
    }

    /// Where requests for `venue_id` go, if its shard has an owner.
    pub fn route(&self, venue_id: &str) -> Option<Route> {
        let shard = shard_of(venue_id, self.shards);
        let owner = self.owners.get(&shard)?;
        let advertise_url = self.nodes.get(&owner.node_id).map(|n| n.advertise_url.clone());
        Some(Route { shard, node_id: owner.node_id.clone(), advertise_url, token: owner.token })
    }

    /// The shards `node_id` owns, in order.
    pub fn owned_by(&self, node_id: &str) -> Vec<u32> {
        self.owners.iter().filter(|(_, o)| o.node_id == node_id).map(|(&s, _)| s).collect()
    }

    /// The shards nobody owns, in order.
    pub fn unowned(&self) -> Vec<u32> {
        (0..self.shards).filter(|s| !self.owners.contains_key(s)).collect()
    }

    /// Shards owned per live node (0 for a node owning none).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts: BTreeMap<String, usize> = self.nodes.keys().map(|id| (id.clone(), 0)).collect();
        for owner in self.owners.values() {
            if let Some(count) = counts.get_mut(&owner.node_id) {
                *count += 1;
            }
        }
        counts
    }

    /// Every shard's owner, in shard order.
    pub fn owners(&self) -> impl Iterator<Item = (u32, &Owner)> {
        self.owners.iter().map(|(&s, o)| (s, o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_and_deletes_move_the_table() {
        let keys = Keys::new("/q");
        let mut table = RoutingTable::new(4);
        table.put(&keys, keys.node("a").as_bytes(), br#"{"advertise_url":"http://a:1"}"#, 2);
        table.put(&keys, keys.owner(1).as_bytes(), b"a", 7);
        table.put(&keys, keys.owner(9).as_bytes(), b"a", 8);
        assert_eq!(table.owned_by("a"), vec![1]);
        assert_eq!(table.unowned(), vec![0, 2, 3]);
        assert_eq!(table.counts(), BTreeMap::from([("a".to_owned(), 1)]));
        let venue = (0..).map(|i| format!("v{i}")).find(|v| shard_of(v, 4) == 1).expect("some venue is in shard 1");
        let route = table.route(&venue).expect("shard 1 has an owner");
        assert_eq!((route.node_id.as_str(), route.token), ("a", 7));
        assert_eq!(route.advertise_url.as_deref(), Some("http://a:1"));
        table.delete(&keys, keys.owner(1).as_bytes());
        assert_eq!(table.route(&venue), None);
    }
}
