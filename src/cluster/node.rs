//! A node's life in the cluster: join, then one task that keeps the routing table in
//! step with etcd (watch), moves towards an even spread of shards (claim, release),
//! rejoins with a new lease if the old one expired, and revokes its lease on leave.
//!
//! The loop acts on its table only once the table has caught up with the node's own
//! last writes (`pending_until`), so a step never re-decides on a table that does not
//! show the previous step yet. This slice owns shards but does not yet serve or fence
//! anything by them; fenced commits build on the token kept here.

use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, EventType, WatchOptions, WatchResponse, WatchStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::config::ClusterConfig;
use super::error::ClusterError;
use super::keys::Keys;
use super::lease::LeaseKeeper;
use super::routing::RoutingTable;
use super::view::ClusterView;
use super::{balance, etcd, join};
use crate::limits::CLUSTER_REBALANCE_EVERY_MS;

/// How long leaving waits for the loop to finish its step and revoke the lease itself.
const LEAVE_WITHIN: Duration = etcd::REQUEST_TIMEOUT;

/// This node's membership; [`ClusterNode::leave`] hands its shards off at once.
/// Dropped without `leave` it stops keeping its lease, which then expires (a crash).
pub struct ClusterNode {
    /// To revoke the lease itself when the loop does not stop in time.
    client: Client,
    view: watch::Receiver<Arc<ClusterView>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ClusterNode {
    /// Joins the cluster (start-up errors are final) and starts the ownership loop.
    pub async fn join(config: ClusterConfig) -> Result<Self, ClusterError> {
        let keys = Keys::new(&config.key_prefix);
        let client = join::connect_and_check(&config, &keys).await?;
        let keeper = join::lease_and_register(&client, &config, &keys).await?;
        tracing::warn!(
            "cluster mode is incomplete (issue 14): shards are owned but not yet enforced; this node still \
             serves every venue from its own log, so two nodes could sell the same window twice. Do not \
             route one venue to more than one node."
        );
        let table = RoutingTable::new(config.shards);
        let (publish, view) = watch::channel(Arc::new(ClusterView::new(&config, Some(&keeper), table.clone())));
        let member =
            Member { client: client.clone(), keys, config, keeper: Some(keeper), table, publish, pending_until: 0 };
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(member.run(stopped));
        Ok(Self { client, view, stop: Some(stop), task: Some(task) })
    }

    /// The node's current view of the cluster.
    pub fn view(&self) -> Arc<ClusterView> {
        self.view.borrow().clone()
    }

    /// Follows the view as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterView>> {
        self.view.clone()
    }

    /// Leaves: revokes the lease so every shard of this node is free at once.
    pub async fn leave(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else { return };
        // The loop may be stuck in a step against an etcd that does not answer: then
        // it is stopped and the lease it last held is revoked from here.
        if tokio::time::timeout(LEAVE_WITHIN, &mut task).await.is_err() {
            task.abort();
            let lease = self.view.borrow().lease;
            if let Some(lease) = lease {
                match etcd::revoke_lease(&mut self.client, lease).await {
                    Ok(()) => tracing::info!("left the cluster: lease revoked"),
                    Err(error) => tracing::warn!(%error, "cannot revoke the lease; it expires on its own"),
                }
            }
        }
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Member {
    client: Client,
    keys: Keys,
    config: ClusterConfig,
    /// `None` after the lease expired, until the node rejoined.
    keeper: Option<LeaseKeeper>,
    table: RoutingTable,
    publish: watch::Sender<Arc<ClusterView>>,
    /// Revision of this node's last claim or release: plan again once the table has it.
    pending_until: i64,
}

impl Member {
    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let mut tick = tokio::time::interval(Duration::from_millis(CLUSTER_REBALANCE_EVERY_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stream: Option<WatchStream> = None;
        loop {
            if stream.is_none() {
                stream = self.open_watch().await.inspect_err(|e| tracing::warn!(%e, "cannot watch etcd")).ok();
            }
            let mut lost = self.keeper.as_ref().map(|k| k.lost.clone());
            tokio::select! {
                _ = &mut stop => break,
                message = next_message(&mut stream) => {
                    if !self.apply(message) {
                        stream = None;
                    }
                }
                _ = lease_lost(&mut lost) => {
                    // Its keys went with it (etcd deletes them); the watch shows that.
                    self.drop_lease();
                }
                _ = tick.tick() => {}
            }
            if self.keeper.is_none() {
                self.rejoin().await;
            }
            self.rebalance().await;
            self.publish();
        }
        self.leave().await;
    }

    /// Reloads the table and watches from just after its revision, so no change is
    /// missed or applied twice.
    async fn open_watch(&mut self) -> Result<WatchStream, ClusterError> {
        self.table = etcd::load(&mut self.client, &self.keys, self.config.shards).await?;
        self.publish();
        let options = WatchOptions::new().with_prefix().with_start_revision(self.table.revision + 1);
        etcd::bounded(self.client.watch(self.keys.all(), Some(options))).await
    }

    /// Applies one watch answer; `false` when the stream must be reopened.
    fn apply(&mut self, message: Result<Option<WatchResponse>, etcd_client::Error>) -> bool {
        let response = match message {
            Ok(Some(response)) => response,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(%error, "the etcd watch failed; reloading");
                return false;
            }
        };
        if response.canceled() {
            tracing::warn!(reason = response.cancel_reason(), "etcd cancelled the watch; reloading");
            return false;
        }
        let own_key = self.keys.node(&self.config.node_id);
        for event in response.events() {
            let Some(kv) = event.kv() else { continue };
            match event.event_type() {
                EventType::Put => self.table.put(&self.keys, kv.key(), kv.value(), kv.create_revision()),
                EventType::Delete => {
                    self.table.delete(&self.keys, kv.key());
                    // Seen at once, where the keep-alive would notice only at its next
                    // beat (a third of the TTL later).
                    let current = self.keeper.as_ref().is_some_and(|k| kv.mod_revision() > k.registered_at);
                    if kv.key() == own_key.as_bytes() && current {
                        tracing::error!("this node's registration vanished from etcd (lease expired or revoked)");
                        self.drop_lease();
                    }
                }
            }
            self.table.revision = self.table.revision.max(kv.mod_revision());
        }
        true
    }

    /// Gives up the current lease (it is gone, or its registration is): the node
    /// rejoins under a new one. The old one is revoked in case it still lives, so the
    /// owner keys under it do not linger until it expires.
    fn drop_lease(&mut self) {
        let Some(keeper) = self.keeper.take() else { return };
        keeper.stop();
        let (mut client, lease) = (self.client.clone(), keeper.lease);
        tokio::spawn(async move { drop(etcd::revoke_lease(&mut client, lease).await) });
    }

    async fn rejoin(&mut self) {
        tracing::warn!(node_id = self.config.node_id, "rejoining the cluster under a new lease");
        match join::lease_and_register(&self.client, &self.config, &self.keys).await {
            Ok(keeper) => self.keeper = Some(keeper),
            Err(error) => tracing::warn!(%error, "cannot rejoin the cluster; retrying"),
        }
    }

    /// One step of [`balance::plan`]; a failed etcd call ends the step (retried later).
    async fn rebalance(&mut self) {
        let Some(lease) = self.keeper.as_ref().map(|k| k.lease) else { return };
        if self.table.revision < self.pending_until {
            return;
        }
        let me = self.config.node_id.clone();
        let table = &self.table;
        let plan = balance::plan(&me, table.shards(), &table.counts(), &table.owned_by(&me), &table.unowned());
        if plan.is_empty() {
            return;
        }
        let (mut claimed, mut released) = (0, 0);
        for &shard in &plan.release {
            let Some(token) = self.table.owner(shard).map(|o| o.token) else { continue };
            match etcd::release(&mut self.client, &self.keys, shard, token).await {
                Ok(Some(revision)) => (released, self.pending_until) = (released + 1, revision),
                Ok(None) => {}
                Err(error) => return tracing::warn!(%error, shard, "cannot release a shard"),
            }
        }
        for &shard in &plan.claim {
            match etcd::claim(&mut self.client, &self.keys, shard, &me, lease).await {
                Ok(Some(revision)) => (claimed, self.pending_until) = (claimed + 1, revision),
                Ok(None) => {}
                Err(error) => return tracing::warn!(%error, shard, "cannot claim a shard"),
            }
        }
        tracing::info!(claimed, released, "rebalanced shards");
    }

    fn publish(&self) {
        let view = ClusterView::new(&self.config, self.keeper.as_ref(), self.table.clone());
        self.publish.send_replace(Arc::new(view));
    }

    async fn leave(&mut self) {
        let Some(keeper) = self.keeper.take() else { return };
        keeper.stop();
        match etcd::revoke_lease(&mut self.client, keeper.lease).await {
            Ok(()) => tracing::info!(node_id = self.config.node_id, "left the cluster: lease revoked"),
            Err(error) => tracing::warn!(%error, "cannot revoke the lease; it expires on its own"),
        }
    }
}

async fn next_message(stream: &mut Option<WatchStream>) -> Result<Option<WatchResponse>, etcd_client::Error> {
    match stream {
        Some(stream) => stream.message().await,
        None => std::future::pending().await,
    }
}

/// Resolves once the lease is gone (or nobody keeps it any more); never without one.
async fn lease_lost(lost: &mut Option<watch::Receiver<bool>>) {
    match lost {
        Some(lost) => drop(lost.wait_for(|&gone| gone).await),
        None => std::future::pending().await,
    }
}
