//! The etcd operations of cluster mode, each one request (a transaction where two
//! things must hold at once), each bounded by a timeout from `limits.rs`.
//!
//! Client choice: the `etcd-client` crate (gRPC over tonic), not etcd's JSON gateway
//! over reqwest. It is the maintained Rust client of the v3 API, typed (compares,
//! transactions, lease keep-alive and watch as real streams instead of hand-parsed
//! chunked JSON with base64 keys), and the fenced commits to come are multi-compare
//! transactions that read far better typed. Its cost is at build time only: its build
//! script runs `protoc`, which needs Debian's `protobuf-compiler` and `libprotobuf-dev`
//! (`.ci/run` installs both); the binary needs nothing more. It speaks to etcd 3.4
//! (Debian's) as well as 3.5/3.6: the v3 API did not change for what is used here.

use std::time::Duration;

use etcd_client::{Client, Compare, CompareOp, ConnectOptions, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse};

use super::error::ClusterError;
use super::keys::Keys;
use super::routing::{NodeRecord, RoutingTable};
use crate::limits::{ETCD_CONNECT_TIMEOUT_MS, ETCD_REQUEST_TIMEOUT_MS};

pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(ETCD_REQUEST_TIMEOUT_MS);

/// Bounds any etcd call: the client's own timeout does not cover a stuck stream setup.
pub async fn bounded<T>(call: impl Future<Output = Result<T, etcd_client::Error>>) -> Result<T, ClusterError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(ClusterError::Timeout(REQUEST_TIMEOUT)),
    }
}

/// Connects to the members (any one answering is enough; the client balances over
/// them). Requests need a leader: without one they fail at once instead of waiting.
pub async fn connect(endpoints: &[String]) -> Result<Client, ClusterError> {
    let options = ConnectOptions::new()
        .with_connect_timeout(Duration::from_millis(ETCD_CONNECT_TIMEOUT_MS))
        .with_timeout(REQUEST_TIMEOUT)
        .with_require_leader(true);
    let connecting = Client::connect(endpoints, Some(options));
    let failed = |cause| ClusterError::Connect { endpoints: endpoints.join(","), cause };
    match tokio::time::timeout(REQUEST_TIMEOUT, connecting).await {
        Ok(connected) => connected.map_err(failed),
        Err(_) => Err(ClusterError::Timeout(REQUEST_TIMEOUT)),
    }
}

/// Records the shard count if this is the cluster's first node, else checks it.
pub async fn ensure_shard_count(client: &mut Client, keys: &Keys, shards: u32) -> Result<(), ClusterError> {
    let key = keys.shard_count();
    let txn = Txn::new()
        .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(key.clone(), shards.to_string(), None)])
        .or_else([TxnOp::get(key, None)]);
    let response = bounded(client.txn(txn)).await?;
    if response.succeeded() {
        tracing::info!(shards, "recorded the shard count of a new cluster");
        return Ok(());
    }
    let recorded = match response.op_responses().into_iter().next() {
        Some(TxnOpResponse::Get(get)) => get.kvs().first().map(|kv| String::from_utf8_lossy(kv.value()).into_owned()),
        _ => None,
    };
    let recorded = recorded.unwrap_or_default();
    match recorded == shards.to_string() {
        true => Ok(()),
        false => Err(ClusterError::ShardsMismatch { configured: shards, recorded, prefix: prefix_of(keys) }),
    }
}

fn prefix_of(keys: &Keys) -> String {
    keys.all().trim_end_matches('/').to_owned()
}

pub async fn grant_lease(client: &mut Client, ttl_secs: u64) -> Result<i64, ClusterError> {
    let ttl = i64::try_from(ttl_secs).expect("the config bounds lease_ttl_secs far below i64::MAX");
    Ok(bounded(client.lease_grant(ttl, None)).await?.id())
}

/// Revokes the lease: every key under it (node, owned shards) goes in one revision.
pub async fn revoke_lease(client: &mut Client, lease: i64) -> Result<(), ClusterError> {
    bounded(client.lease_revoke(lease)).await.map(drop)
}

/// Registers the node under its lease, only if no live node has its id: the revision
/// of the registration, or `None` when the id is taken.
pub async fn register(
    client: &mut Client,
    keys: &Keys,
    node_id: &str,
    record: &NodeRecord,
    lease: i64,
) -> Result<Option<i64>, ClusterError> {
    let key = keys.node(node_id);
    let value = serde_json::to_vec(record).expect("a node record serialises");
    let txn = Txn::new().when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)]).and_then([TxnOp::put(
        key,
        value,
        Some(PutOptions::new().with_lease(lease)),
    )]);
    Ok(revision_if_done(bounded(client.txn(txn)).await?))
}

/// Claims a free shard under the lease: the revision of the claim (the shard's new
/// fencing token), or `None` when someone owns it already.
pub async fn claim(
    client: &mut Client,
    keys: &Keys,
    shard: u32,
    node_id: &str,
    lease: i64,
) -> Result<Option<i64>, ClusterError> {
    let key = keys.owner(shard);
    let txn = Txn::new().when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)]).and_then([TxnOp::put(
        key,
        node_id,
        Some(PutOptions::new().with_lease(lease)),
    )]);
    Ok(revision_if_done(bounded(client.txn(txn)).await?))
}

/// Releases a shard, only if it is still the ownership with this token (never a later
/// owner's key): the revision of the release, or `None` when it was not.
pub async fn release(client: &mut Client, keys: &Keys, shard: u32, token: i64) -> Result<Option<i64>, ClusterError> {
    let key = keys.owner(shard);
    let txn = Txn::new()
        .when([Compare::create_revision(key.clone(), CompareOp::Equal, token)])
        .and_then([TxnOp::delete(key, None)]);
    Ok(revision_if_done(bounded(client.txn(txn)).await?))
}

/// The revision a successful transaction wrote at.
fn revision_if_done(response: etcd_client::TxnResponse) -> Option<i64> {
    response.succeeded().then(|| response.header().map_or(0, |h| h.revision()))
}

/// Reads every key of the cluster into a fresh table at one revision.
pub async fn load(client: &mut Client, keys: &Keys, shards: u32) -> Result<RoutingTable, ClusterError> {
    let response = bounded(client.get(keys.all(), Some(GetOptions::new().with_prefix()))).await?;
    let mut table = RoutingTable::new(shards);
    for kv in response.kvs() {
        table.put(keys, kv.key(), kv.value(), kv.create_revision());
    }
    table.revision = response.header().map_or(0, |h| h.revision());
    Ok(table)
}
