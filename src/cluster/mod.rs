//! Cluster mode (issue 14), first slice: membership and shard ownership in etcd.
//!
//! Venues are spread over `shards` fixed shards by a stable hash ([`hash`]); each shard
//! is owned by one live node at a time. A node holds an etcd lease, registers under it
//! and claims free shards with compare-and-create transactions under it ([`etcd`],
//! [`join`], [`lease`]); the owner key's `create_revision` is the shard's fencing
//! token. Every node watches the cluster's keys into a routing table ([`routing`]) and
//! moves towards an even spread by the pure rules of [`balance`] ([`node`]). Key layout:
//! [`keys`]; config: [`config`]; what is shown to operators: [`view`].
//!
//! Not yet: serving only owned shards, fenced commits, forwarding. Single-node mode
//! (no `[cluster]`) does not touch any of this.
//!
//! The etcd client (and so [`etcd`], [`join`], [`lease`], [`node`]) is built only with
//! the `cluster` cargo feature, whose build needs `protoc`; without it, [`disabled`]
//! stands in for the node and a `[cluster]` section is refused at start-up.

pub mod balance;
pub mod config;
#[cfg(not(feature = "cluster"))]
pub mod disabled;
pub mod error;
#[cfg(feature = "cluster")]
pub mod etcd;
pub mod hash;
#[cfg(feature = "cluster")]
pub mod join;
pub mod keys;
#[cfg(feature = "cluster")]
pub mod lease;
#[cfg(feature = "cluster")]
pub mod node;
pub mod retry;
pub mod routing;
pub mod view;

pub use config::{ClusterConfig, ClusterSpec};
#[cfg(not(feature = "cluster"))]
pub use disabled::ClusterNode;
pub use error::ClusterError;
#[cfg(feature = "cluster")]
pub use node::ClusterNode;
pub use view::ClusterView;
