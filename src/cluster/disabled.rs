//! The cluster node of a binary built without the `cluster` feature: it cannot exist.
//! A `[cluster]` section is refused at start-up with [`ClusterError::NotBuiltIn`], so
//! the service never runs as a node that cannot reach etcd.

use std::sync::Arc;

use tokio::sync::watch;

use super::{ClusterConfig, ClusterError, ClusterView};

/// Uninhabited: no value of it is ever made.
pub enum ClusterNode {}

impl ClusterNode {
    pub async fn join(_config: ClusterConfig) -> Result<Self, ClusterError> {
        Err(ClusterError::NotBuiltIn)
    }

    pub fn view(&self) -> Arc<ClusterView> {
        match *self {}
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterView>> {
        match *self {}
    }

    pub async fn leave(self) {
        match self {}
    }
}
