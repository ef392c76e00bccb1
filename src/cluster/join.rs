//! Joining the cluster at start-up: reach etcd, check the shard count, take a lease and
//! register the node. Transient etcd failures are retried a bounded number of times;
//! a wrong shard count or a node id in use are final and stop the start.

use std::time::{Duration, Instant};

use etcd_client::Client;

use super::config::ClusterConfig;
use super::error::ClusterError;
use super::etcd;
use super::keys::Keys;
use super::lease::LeaseKeeper;
use super::retry::Pause;
use super::routing::NodeRecord;
use crate::limits::{CLUSTER_REGISTER_GRACE_SECS, ETCD_STARTUP_ATTEMPTS};

const REGISTER_GRACE: Duration = Duration::from_secs(CLUSTER_REGISTER_GRACE_SECS);

fn transient(error: &ClusterError) -> bool {
    matches!(error, ClusterError::Connect { .. } | ClusterError::Etcd(_) | ClusterError::Timeout(_))
}

/// Runs `step` until it succeeds, fails for good, or runs out of attempts.
pub async fn with_retries<T, F, Fut>(what: &str, mut step: F) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClusterError>>,
{
    let mut pause = Pause::new();
    let mut attempt = 1;
    loop {
        match step().await {
            Err(error) if transient(&error) && attempt < ETCD_STARTUP_ATTEMPTS => {
                tracing::warn!(%error, attempt, "{what} failed; retrying");
                pause.wait().await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// Connects and checks (or, first of all nodes, records) the shard count.
pub async fn connect_and_check(config: &ClusterConfig, keys: &Keys) -> Result<Client, ClusterError> {
    let client = with_retries("connecting to etcd", || etcd::connect(&config.etcd_endpoints)).await?;
    with_retries("checking the shard count", || {
        let mut client = client.clone();
        async move { etcd::ensure_shard_count(&mut client, keys, config.shards).await }
    })
    .await?;
    Ok(client)
}

/// Takes a fresh lease and registers the node under it, keeping the lease alive.
pub async fn lease_and_register(
    client: &Client,
    config: &ClusterConfig,
    keys: &Keys,
) -> Result<LeaseKeeper, ClusterError> {
    let asked_at = Instant::now();
    let lease = with_retries("taking a lease", || {
        let mut client = client.clone();
        async move { etcd::grant_lease(&mut client, config.lease_ttl_secs).await }
    })
    .await?;
    let mut keeper = LeaseKeeper::start(client.clone(), lease, config.lease_ttl_secs, asked_at);
    let record = NodeRecord { advertise_url: config.advertise_url.clone() };
    let deadline = Instant::now() + Duration::from_secs(config.lease_ttl_secs) + REGISTER_GRACE;
    let mut pause = Pause::new();
    loop {
        let registered = with_retries("registering the node", || {
            let mut client = client.clone();
            let record = &record;
            async move { etcd::register(&mut client, keys, &config.node_id, record, lease).await }
        })
        .await?;
        if let Some(revision) = registered {
            tracing::info!(node_id = config.node_id, lease = format!("{lease:x}"), "joined the cluster");
            keeper.registered_at = revision;
            return Ok(keeper);
        }
        if Instant::now() >= deadline {
            let _ = etcd::revoke_lease(&mut client.clone(), lease).await;
            let prefix = keys.all().trim_end_matches('/').to_owned();
            return Err(ClusterError::DuplicateNode { node_id: config.node_id.clone(), prefix });
        }
        pause.wait().await;
    }
}
