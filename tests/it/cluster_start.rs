//! Cluster mode start-up (issue 14): what a node refuses, and says, before it serves.
//! A shard count other than the cluster's, a node id in use, bad `[cluster]` values
//! (each named by its key), an etcd nobody answers at; and without `[cluster]` the node
//! says it is single. Helpers are `cluster`'s.

use reqwest::StatusCode;

use crate::cluster::{LEASE_LONG_SECS, LEASE_SHORT_SECS, Node, TOKEN, cluster_view, config_on, node_config};
use crate::helpers::{
    AppOptions, BinaryHome, ClusterSpec, EtcdCluster, eventually, free_ports, http_client, spawn_app_with,
};

#[actix_web::test]
async fn a_node_with_another_shard_count_refuses_to_start_and_says_why() {
    let etcd = EtcdCluster::start(1).await;
    let _first = Node::start(&etcd, "a", 16, LEASE_LONG_SECS);
    let other = BinaryHome::with_config(node_config(&etcd, "b", 32, LEASE_LONG_SECS));
    let (status, stderr) = other.run_to_exit();
    assert!(!status.success(), "it must not start: {stderr}");
    assert!(stderr.contains("cluster.shards = 32"), "{stderr}");
    assert!(stderr.contains("created with shards = 16"), "{stderr}");
}

#[actix_web::test]
async fn a_second_node_with_the_same_id_refuses_to_start() {
    let etcd = EtcdCluster::start(1).await;
    let _first = Node::start(&etcd, "a", 8, LEASE_SHORT_SECS);
    let twin = BinaryHome::with_config(node_config(&etcd, "a", 8, LEASE_SHORT_SECS));
    let (status, stderr) = twin.run_to_exit();
    assert!(!status.success(), "it must not start: {stderr}");
    assert!(stderr.contains("cluster.node_id \"a\" is already registered"), "{stderr}");
}

/// Makes one `[cluster]` value bad.
type Spoil = fn(&mut ClusterSpec);

#[actix_web::test]
async fn bad_cluster_values_are_refused_at_start_up_naming_the_key() {
    // Refused before etcd is ever asked: nothing listens there.
    let nowhere = vec![format!("http://127.0.0.1:{}", free_ports(1)[0])];
    let cases: [(&str, Spoil); 6] = [
        ("cluster.node_id", |c| c.node_id = "Not Valid".into()),
        ("cluster.advertise_url", |c| c.advertise_url = "localhost:8080".into()),
        ("cluster.etcd_endpoints", |c| c.etcd_endpoints = vec![]),
        ("cluster.lease_ttl_secs", |c| c.lease_ttl_secs = Some(0)),
        ("cluster.shards", |c| c.shards = Some(0)),
        ("cluster.key_prefix", |c| c.key_prefix = Some("no-slash".into())),
    ];
    for (key, spoil) in cases {
        let mut config = config_on(nowhere.clone(), "a", 8, LEASE_SHORT_SECS);
        spoil(config.cluster.as_mut().expect("a cluster section"));
        let error = config.parse().expect_err("refused").to_string();
        assert!(error.starts_with(&format!("{key}: ")), "{key}: {error}");
    }
    // The binary refuses too, with the message.
    let mut config = config_on(nowhere, "a", 8, LEASE_SHORT_SECS);
    config.cluster.as_mut().expect("a cluster section").shards = Some(0);
    let (status, stderr) = BinaryHome::with_config(config).run_to_exit();
    assert!(!status.success() && stderr.contains("cluster.shards: must be"), "{stderr}");
}

#[actix_web::test]
async fn without_a_cluster_section_the_node_says_it_is_single() {
    let app = spawn_app_with(AppOptions::default().admin_token(TOKEN)).await;
    let view = eventually("the cluster view", || cluster_view(&app.address)).await;
    assert_eq!(view, serde_json::json!({"mode": "single"}));
    let anonymous = http_client().get(app.url("/v1/admin/cluster")).send().await.expect("an answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_node_that_cannot_reach_etcd_refuses_to_start_naming_the_endpoints_and_touches_no_data() {
    let nowhere = vec![format!("http://127.0.0.1:{}", free_ports(1)[0])];
    let home = BinaryHome::with_config(config_on(nowhere.clone(), "a", 8, LEASE_SHORT_SECS));
    let (status, stderr) = home.run_to_exit();
    assert!(!status.success(), "it must not start: {stderr}");
    assert!(stderr.contains(&format!("cannot join the cluster (etcd at {})", nowhere[0])), "{stderr}");
    assert!(!home.data_dir.exists(), "no data dir is created before the node joined");
}
