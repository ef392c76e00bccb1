//! Cluster mode, first slice (issue 14): membership and shard ownership in a real etcd.
//!
//! Real `qskip` binaries on 127.0.0.1 join an etcd started by the test
//! (`helpers::etcd`); every process is started and killed by PID. Checked through each
//! node's `GET /v1/admin/cluster`: shards spread evenly and every node's routing table
//! agrees; a node stopped with SIGTERM hands its shards off long before its lease could
//! have expired; a SIGKILLed node's shards are taken over once its lease expires; a
//! node whose lease is revoked rejoins. Start-up refusals: `cluster_start`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    BinaryApp, BinaryHome, ClusterSpec, EtcdCluster, PATIENCE, TestConfig, VENUE, VenueSpec, eventually,
    eventually_within, free_ports, http_client,
};

pub const TOKEN: &str = "a-long-enough-admin-token-for-tests";

/// A lease far longer than any hand-off may take: a graceful hand-off seen within
/// [`HANDOFF_WITHIN`] cannot be the lease expiring.
pub const LEASE_LONG_SECS: u64 = 120;
const HANDOFF_WITHIN: Duration = PATIENCE;

/// The shortest lease etcd grants: a killed node's shards come free soonest.
pub const LEASE_SHORT_SECS: u64 = 2;

pub fn node_config(etcd: &EtcdCluster, node_id: &str, shards: u32, lease_ttl_secs: u64) -> TestConfig {
    config_on(etcd.endpoints(), node_id, shards, lease_ttl_secs)
}

pub fn config_on(etcd_endpoints: Vec<String>, node_id: &str, shards: u32, lease_ttl_secs: u64) -> TestConfig {
    let port = free_ports(1)[0];
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 40)]);
    config.bind = format!("127.0.0.1:{port}");
    config.admin_token = Some(TOKEN.into());
    config.cluster = Some(ClusterSpec {
        node_id: node_id.into(),
        advertise_url: format!("http://127.0.0.1:{port}"),
        etcd_endpoints,
        lease_ttl_secs: Some(lease_ttl_secs),
        shards: Some(shards),
        key_prefix: Some("/qskip-test".into()),
    });
    config
}

/// A node: its home (config, data) and, while it runs, its process.
pub struct Node {
    id: String,
    home: BinaryHome,
    app: Option<BinaryApp>,
}

impl Node {
    pub fn start(etcd: &EtcdCluster, id: &str, shards: u32, lease_ttl_secs: u64) -> Self {
        let home = BinaryHome::with_config(node_config(etcd, id, shards, lease_ttl_secs));
        let app = home.start();
        Self { id: id.into(), home, app: Some(app) }
    }

    fn app(&mut self) -> &mut BinaryApp {
        self.app.as_mut().expect("the node runs")
    }

    fn address(&self) -> String {
        self.app.as_ref().expect("the node runs").api.address.clone()
    }
}

pub async fn cluster_view(address: &str) -> Result<Value, String> {
    let response = http_client()
        .get(format!("{address}/v1/admin/cluster"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    response.json().await.map_err(|e| e.to_string())
}

/// Every view lists exactly `nodes`, every shard has an owner, each node owns
/// `floor..=ceil` of `shards / nodes`, and all views hold the same owners and tokens.
fn check_converged(views: &[Value], nodes: &[&str], shards: u32) -> Result<(), String> {
    let (floor, ceil) = (shards as usize / nodes.len(), (shards as usize).div_ceil(nodes.len()));
    for view in views {
        let listed: Vec<&str> =
            view["nodes"].as_array().ok_or("no nodes")?.iter().filter_map(|n| n["node_id"].as_str()).collect();
        if listed != nodes {
            return Err(format!("{} sees nodes {listed:?}", view["node_id"]));
        }
        let owners = view["owners"].as_array().ok_or("no owners")?;
        if owners.len() != shards as usize {
            return Err(format!("{} sees {} of {shards} shards owned", view["node_id"], owners.len()));
        }
        for node in view["nodes"].as_array().ok_or("no nodes")? {
            let held = node["shards_owned"].as_u64().ok_or("no count")? as usize;
            if !(floor..=ceil).contains(&held) {
                return Err(format!(
                    "{} sees {} owning {held}, not {floor}..={ceil}",
                    view["node_id"], node["node_id"]
                ));
            }
        }
        if view["owners"] != views[0]["owners"] {
            return Err(format!("{} and {} disagree on the owners", view["node_id"], views[0]["node_id"]));
        }
    }
    Ok(())
}

async fn wait_converged(addresses: &[String], nodes: &[&str], shards: u32, within: Duration) -> Vec<Value> {
    eventually_within("the shards to spread evenly and every view to agree", within, || async {
        let mut views = Vec::new();
        for address in addresses {
            views.push(cluster_view(address).await?);
        }
        check_converged(&views, nodes, shards).map(|()| views)
    })
    .await
}

#[actix_web::test]
async fn three_nodes_spread_the_shards_evenly_and_agree_on_every_owner() {
    let etcd = EtcdCluster::start(3).await;
    let nodes: Vec<Node> = ["a", "b", "c"].iter().map(|id| Node::start(&etcd, id, 64, LEASE_LONG_SECS)).collect();
    let addresses: Vec<String> = nodes.iter().map(Node::address).collect();
    let views = wait_converged(&addresses, &["a", "b", "c"], 64, PATIENCE).await;

    // Each view says who it is; a node's own shards are those the others see it own.
    for (view, node) in views.iter().zip(&nodes) {
        assert_eq!(view["mode"], "cluster");
        assert_eq!(view["node_id"], node.id.as_str());
        let renewed_ms_ago = view["lease_renewed_ms_ago"].as_u64().expect("a lease renewed some time ago");
        assert!(renewed_ms_ago < LEASE_LONG_SECS * 1_000, "{} holds a live lease: {view}", node.id);
        let mine: Vec<u64> = views[0]["owners"]
            .as_array()
            .expect("owners")
            .iter()
            .filter(|o| o["node_id"] == node.id.as_str())
            .map(|o| o["shard"].as_u64().expect("a shard number"))
            .collect();
        let owned_here: Vec<u64> =
            view["owned_here"].as_array().expect("owned_here").iter().filter_map(Value::as_u64).collect();
        assert_eq!(owned_here, mine, "{}'s own shards", node.id);
    }
    // Tokens are owner keys' create revisions: distinct per shard ownership.
    let mut tokens: Vec<i64> =
        views[0]["owners"].as_array().expect("owners").iter().map(|o| o["token"].as_i64().expect("a token")).collect();
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 64, "each ownership has its own token");
}

#[actix_web::test]
async fn a_node_stopped_with_sigterm_hands_its_shards_off_before_its_lease_could_expire() {
    let etcd = EtcdCluster::start(1).await;
    let mut nodes: Vec<Node> = ["a", "b", "c"].iter().map(|id| Node::start(&etcd, id, 30, LEASE_LONG_SECS)).collect();
    let addresses: Vec<String> = nodes.iter().map(Node::address).collect();
    let before = wait_converged(&addresses, &["a", "b", "c"], 30, PATIENCE).await;

    let status = nodes[2].app().terminate();
    assert!(status.success(), "a SIGTERMed node exits cleanly: {status}");
    assert!(
        nodes[2].app().stderr().contains("lease revoked"),
        "the node revoked its lease: {}",
        nodes[2].app().stderr()
    );
    assert!(HANDOFF_WITHIN < Duration::from_secs(LEASE_LONG_SECS));
    let after = wait_converged(&addresses[..2], &["a", "b"], 30, HANDOFF_WITHIN).await;

    // The survivors kept what they had and only took c's shards on.
    for (shard, owner) in owners(&before[0]) {
        let now = owners(&after[0]).into_iter().find(|(s, _)| *s == shard).map(|(_, o)| o);
        if owner != "c" {
            assert_eq!(now.as_deref(), Some(owner.as_str()), "shard {shard} moved between survivors");
        }
    }
}

#[actix_web::test]
async fn a_killed_node_s_shards_are_taken_over_once_its_lease_expires() {
    let etcd = EtcdCluster::start(1).await;
    let mut nodes: Vec<Node> = ["a", "b", "c"].iter().map(|id| Node::start(&etcd, id, 30, LEASE_SHORT_SECS)).collect();
    let addresses: Vec<String> = nodes.iter().map(Node::address).collect();
    let before = wait_converged(&addresses, &["a", "b", "c"], 30, PATIENCE).await;
    let tokens_before: Vec<(u64, i64)> = tokens(&before[0]);

    nodes[2].app().kill_9();
    let after = wait_converged(&addresses[..2], &["a", "b"], 30, PATIENCE).await;
    // Every shard c had is owned anew: a new ownership, a higher token.
    for (shard, owner) in owners(&before[0]).into_iter().filter(|(_, o)| o == "c") {
        let old = tokens_before.iter().find(|(s, _)| *s == shard).expect("c's shard had a token").1;
        let new = tokens(&after[0]).into_iter().find(|(s, _)| *s == shard).expect("the shard is owned again").1;
        assert!(new > old, "shard {shard} of {owner}: token {new} after {old}");
    }

    // c comes back under the same id and gets its share again.
    let home = &nodes[2].home;
    let app = home.start();
    let mut addresses = addresses;
    addresses[2] = app.api.address.clone();
    wait_converged(&addresses, &["a", "b", "c"], 30, PATIENCE).await;
}

#[actix_web::test]
async fn a_node_whose_lease_is_revoked_under_it_rejoins_with_a_new_one() {
    let etcd = EtcdCluster::start(1).await;
    let nodes: Vec<Node> = ["a", "b"].iter().map(|id| Node::start(&etcd, id, 10, LEASE_LONG_SECS)).collect();
    let addresses: Vec<String> = nodes.iter().map(Node::address).collect();
    let before = wait_converged(&addresses, &["a", "b"], 10, PATIENCE).await;
    let lease = before[0]["lease"].as_str().expect("a has a lease").to_owned();

    // As if a's lease had expired while it was paused: etcd drops its node and owner keys.
    let revoked = std::process::Command::new("etcdctl")
        .args(["--endpoints", &etcd.endpoints().join(","), "lease", "revoke", &lease])
        .output()
        .expect("etcdctl runs (Debian's etcd-client package)");
    assert!(revoked.status.success(), "etcdctl: {}", String::from_utf8_lossy(&revoked.stderr));

    // a notices, takes a new lease, registers again and gets its share back.
    eventually("a to hold a new lease", || async {
        let view = cluster_view(&addresses[0]).await?;
        match view["lease"].as_str() {
            Some(now) if now != lease => Ok(()),
            other => Err(format!("lease {other:?}")),
        }
    })
    .await;
    let after = wait_converged(&addresses, &["a", "b"], 10, PATIENCE).await;
    assert_ne!(after[0]["lease"].as_str(), Some(lease.as_str()), "a rejoined under a new lease");
    assert!(nodes[0].app.as_ref().expect("a runs").stderr().contains("rejoining the cluster"), "a saw its lease go");
}

#[actix_web::test]
async fn ownership_survives_the_etcd_leader_being_killed_and_a_new_node_then_joins() {
    let mut etcd = EtcdCluster::start(3).await;
    // Ten times etcd's election timeout: keep-alives must get through the election.
    let ttl = 10;
    let mut nodes: Vec<Node> = ["a", "b"].iter().map(|id| Node::start(&etcd, id, 12, ttl)).collect();
    let mut addresses: Vec<String> = nodes.iter().map(Node::address).collect();
    let before = wait_converged(&addresses, &["a", "b"], 12, PATIENCE).await;

    let leader = etcd.leader().await;
    etcd.members[leader].kill();
    let elected = etcd.leader().await;
    assert_ne!(elected, leader, "another member leads");

    // Writes go on under the new leader: a third node joins and gets its share.
    nodes.push(Node::start(&etcd, "c", 12, ttl));
    addresses.push(nodes[2].address());
    let after = wait_converged(&addresses, &["a", "b", "c"], 12, PATIENCE).await;
    // etcd carries leases over a leader change: a and b kept theirs (no rejoin).
    for i in 0..2 {
        assert_eq!(after[i]["lease"], before[i]["lease"], "{} kept its lease", nodes[i].id);
    }
}

#[actix_web::test]
async fn a_node_still_stops_on_sigterm_when_etcd_is_gone() {
    let mut etcd = EtcdCluster::start(1).await;
    let mut node = Node::start(&etcd, "a", 4, LEASE_LONG_SECS);
    wait_converged(&[node.address()], &["a"], 4, PATIENCE).await;
    etcd.members[0].kill();
    // Within the binary helper's deadline, with a clean exit: leaving is bounded.
    let status = node.app().terminate();
    assert!(status.success(), "{status}: {}", node.app().stderr());
}

fn owners(view: &Value) -> Vec<(u64, String)> {
    let list = view["owners"].as_array().expect("owners");
    list.iter()
        .map(|o| (o["shard"].as_u64().expect("shard"), o["node_id"].as_str().expect("node").to_owned()))
        .collect()
}

fn tokens(view: &Value) -> Vec<(u64, i64)> {
    let list = view["owners"].as_array().expect("owners");
    list.iter().map(|o| (o["shard"].as_u64().expect("shard"), o["token"].as_i64().expect("token"))).collect()
}
