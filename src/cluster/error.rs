//! Why a node could not join or keep its place in the cluster.

/// A cluster failure. Start-up failures stop the process with this message; later ones
/// are logged and retried by the ownership loop.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    // The etcd error is in the message and deliberately not a `source`: a report of the
    // chain would print it twice.
    #[cfg(feature = "cluster")]
    #[error("cannot reach etcd at {endpoints}: {cause}")]
    Connect { endpoints: String, cause: etcd_client::Error },
    #[cfg(feature = "cluster")]
    #[error("etcd request failed: {0}")]
    Etcd(etcd_client::Error),
    #[error(
        "this qskip binary was built without cluster mode; build it with `cargo build --release --features cluster` \
         (needs Debian's protobuf-compiler and libprotobuf-dev) or remove the [cluster] section"
    )]
    NotBuiltIn,
    #[error("etcd did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error(
        "cluster.shards = {configured}, but the cluster under key prefix {prefix:?} in etcd was created with \
         shards = {recorded}; the shard count is fixed for the life of a cluster: use shards = {recorded}"
    )]
    ShardsMismatch { configured: u32, recorded: String, prefix: String },
    #[error(
        "cluster.node_id {node_id:?} is already registered under {prefix:?}: another node runs with this node_id \
         (or a killed one's lease has not expired yet)"
    )]
    DuplicateNode { node_id: String, prefix: String },
    #[error("the node's etcd lease {0:x} expired: its shards are no longer its own")]
    LeaseLost(i64),
}

#[cfg(feature = "cluster")]
impl From<etcd_client::Error> for ClusterError {
    fn from(error: etcd_client::Error) -> Self {
        Self::Etcd(error)
    }
}
