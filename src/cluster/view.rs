//! What a node knows of the cluster at one moment: its own identity and lease, and its
//! routing table. Published after every change; read by `GET /v1/admin/cluster` and,
//! later, by request forwarding.

use std::time::{Duration, Instant};

use tokio::sync::watch;

#[cfg(feature = "cluster")]
use super::config::ClusterConfig;
#[cfg(feature = "cluster")]
use super::lease::LeaseKeeper;
use super::routing::{Route, RoutingTable};

#[derive(Debug, Clone)]
pub struct ClusterView {
    pub node_id: String,
    pub advertise_url: String,
    pub key_prefix: String,
    pub lease_ttl_secs: u64,
    /// The node's lease, `None` while it has none (expired, not yet rejoined).
    pub lease: Option<i64>,
    /// When the lease was last known good (see `LeaseKeeper::renewed`).
    pub renewed: Option<watch::Receiver<Instant>>,
    pub table: RoutingTable,
}

impl ClusterView {
    #[cfg(feature = "cluster")]
    pub fn new(config: &ClusterConfig, lease: Option<&LeaseKeeper>, table: RoutingTable) -> Self {
        Self {
            node_id: config.node_id.clone(),
            advertise_url: config.advertise_url.clone(),
            key_prefix: config.key_prefix.clone(),
            lease_ttl_secs: config.lease_ttl_secs,
            lease: lease.map(|k| k.lease),
            renewed: lease.map(|k| k.renewed.clone()),
            table,
        }
    }

    /// How long ago the lease was last known good; `None` without a lease. Once this
    /// passes the TTL the node cannot know it owns anything (fencing decides then).
    pub fn lease_renewed_ago(&self) -> Option<Duration> {
        self.renewed.as_ref().map(|renewed| renewed.borrow().elapsed())
    }

    /// Where requests for `venue_id` go, as this node believes.
    pub fn route(&self, venue_id: &str) -> Option<Route> {
        self.table.route(venue_id)
    }

    /// Shards this node believes it owns.
    pub fn owned_here(&self) -> Vec<u32> {
        self.table.owned_by(&self.node_id)
    }
}
