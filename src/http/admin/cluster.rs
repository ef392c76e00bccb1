//! `GET /v1/admin/cluster`: this node's view of the cluster (nodes, shards per node,
//! each shard's owner and fencing token), or `{"mode": "single"}` when the node runs
//! without `[cluster]`. Views of different nodes agree once the watch has caught up;
//! `revision` says which etcd revision a view reflects.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::authorize;
use crate::cluster::ClusterView;
use crate::http::error::ErrorBody;
use crate::http::{ApiError, AppState};

/// A live node and how many shards it owns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterNodeJson {
    pub node_id: String,
    pub advertise_url: String,
    pub shards_owned: usize,
}

/// One shard's owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShardOwnerJson {
    pub shard: u32,
    pub node_id: String,
    /// The fencing token: etcd `create_revision` of the owner key.
    pub token: i64,
}

/// The cluster as this node sees it. In single-node mode only `mode` is present.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterJson {
    /// `single` or `cluster`.
    #[schema(example = "cluster")]
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertise_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ttl_secs: Option<u64>,
    /// This node's lease id in hex (null while it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<Option<String>>,
    /// Milliseconds since etcd last confirmed this node's lease (null without one); past
    /// `lease_ttl_secs` the node cannot know it still owns its shards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_renewed_ms_ago: Option<Option<u64>>,
    /// The etcd revision this view reflects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<ClusterNodeJson>>,
    /// Shards this node owns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_here: Option<Vec<u32>>,
    /// Shards nobody owns right now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unowned: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<ShardOwnerJson>>,
}

impl ClusterJson {
    fn single() -> Self {
        Self {
            mode: "single",
            node_id: None,
            advertise_url: None,
            key_prefix: None,
            shards: None,
            lease_ttl_secs: None,
            lease: None,
            lease_renewed_ms_ago: None,
            revision: None,
            nodes: None,
            owned_here: None,
            unowned: None,
            owners: None,
        }
    }

    fn of(view: &ClusterView) -> Self {
        let table = &view.table;
        let counts = table.counts();
        let nodes = table.nodes.iter().map(|(id, record)| ClusterNodeJson {
            node_id: id.clone(),
            advertise_url: record.advertise_url.clone(),
            shards_owned: counts.get(id).copied().unwrap_or_default(),
        });
        let owners =
            table.owners().map(|(shard, o)| ShardOwnerJson { shard, node_id: o.node_id.clone(), token: o.token });
        Self {
            mode: "cluster",
            node_id: Some(view.node_id.clone()),
            advertise_url: Some(view.advertise_url.clone()),
            key_prefix: Some(view.key_prefix.clone()),
            shards: Some(table.shards()),
            lease_ttl_secs: Some(view.lease_ttl_secs),
            lease: Some(view.lease.map(|lease| format!("{lease:x}"))),
            lease_renewed_ms_ago: Some(view.lease_renewed_ago().map(|ago| ago.as_millis() as u64)),
            revision: Some(table.revision),
            nodes: Some(nodes.collect()),
            owned_here: Some(view.owned_here()),
            unowned: Some(table.unowned()),
            owners: Some(owners.collect()),
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/admin/cluster",
    tag = "admin",
    operation_id = "admin_cluster",
    summary = "This node's view of the cluster: nodes, shards per node, each shard's owner and fencing token",
    responses(
        (status = 200, description = "The view; `{\"mode\": \"single\"}` without `[cluster]`", body = ClusterJson),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn cluster(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let body = match &state.cluster {
        Some(view) => ClusterJson::of(&view.borrow()),
        None => ClusterJson::single(),
    };
    Ok(HttpResponse::Ok().json(body))
}
