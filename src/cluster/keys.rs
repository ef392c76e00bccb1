//! The etcd key layout of one cluster, under its `key_prefix` (`P`):
//!
//! - `P/shards`: the shard count, written once by the first node (decimal text);
//! - `P/nodes/<node_id>`: a live node, `{"advertise_url": ...}`, under its lease;
//! - `P/shards/<n>/owner`: the owner of shard `n` (its node id), under the owner's
//!   lease, created only if absent. Its `create_revision` is the shard's fencing token.
//!
//! Nothing else of the cluster lives in etcd yet (the shard logs come with fenced
//! commits). Keys are parsed back here only, so the layout is in one place.

/// A key of this cluster, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterKey {
    Node(String),
    Owner(u32),
}

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// `prefix` is checked by the config (starts with `/`, no trailing `/`).
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned() }
    }

    /// Every key of the cluster starts with this (the watch covers it).
    pub fn all(&self) -> String {
        format!("{}/", self.prefix)
    }

    pub fn shard_count(&self) -> String {
        format!("{}/shards", self.prefix)
    }

    pub fn node(&self, node_id: &str) -> String {
        format!("{}/nodes/{node_id}", self.prefix)
    }

    pub fn owner(&self, shard: u32) -> String {
        format!("{}/shards/{shard}/owner", self.prefix)
    }

    /// The node or owner key `key` is, if it is one.
    pub fn parse(&self, key: &[u8]) -> Option<ClusterKey> {
        let key = std::str::from_utf8(key).ok()?;
        let rest = key.strip_prefix(&self.prefix)?;
        if let Some(node) = rest.strip_prefix("/nodes/") {
            return (!node.is_empty() && !node.contains('/')).then(|| ClusterKey::Node(node.to_owned()));
        }
        let shard = rest.strip_prefix("/shards/")?.strip_suffix("/owner")?;
        shard.parse().ok().map(ClusterKey::Owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back() {
        let keys = Keys::new("/qskip");
        assert_eq!(keys.parse(keys.node("a").as_bytes()), Some(ClusterKey::Node("a".into())));
        assert_eq!(keys.parse(keys.owner(17).as_bytes()), Some(ClusterKey::Owner(17)));
        assert_eq!(keys.parse(keys.shard_count().as_bytes()), None);
        assert_eq!(keys.parse(b"/qskipper/nodes/a"), None);
        assert_eq!(keys.parse(b"/qskip/shards/x/owner"), None);
    }
}
