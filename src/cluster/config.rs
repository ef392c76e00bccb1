//! `[cluster]` of the config file: what switches cluster mode on, and its checks.
//!
//! Without the section qskip runs single-node exactly as before. Every value is checked
//! at start-up and a bad one is refused with a message naming its key
//! (`cluster.<key>`), because a node that starts with a wrong prefix or endpoint joins
//! the wrong cluster or none, which is worse than not starting.

use serde::Deserialize;

use crate::limits::{
    CLUSTER_ETCD_ENDPOINTS_MAX, CLUSTER_KEY_PREFIX_LEN_MAX, CLUSTER_LEASE_TTL_SECS_DEFAULT, CLUSTER_LEASE_TTL_SECS_MAX,
    CLUSTER_LEASE_TTL_SECS_MIN, CLUSTER_NODE_ID_LEN_MAX, CLUSTER_SHARDS_DEFAULT, CLUSTER_SHARDS_MAX,
};

/// Where several qskip clusters may share one etcd unless told otherwise.
pub const KEY_PREFIX_DEFAULT: &str = "/qskip";

/// `[cluster]` as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    pub node_id: String,
    pub advertise_url: String,
    pub etcd_endpoints: Vec<String>,
    pub lease_ttl_secs: Option<u64>,
    pub shards: Option<u32>,
    pub key_prefix: Option<String>,
}

/// The checked `[cluster]` a node runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Unique in the cluster; part of etcd keys, so `a-z 0-9 _ -` only.
    pub node_id: String,
    /// How other nodes and the proxy reach this node (`http://host:port`, no path).
    pub advertise_url: String,
    /// `http://host:port` of etcd members.
    pub etcd_endpoints: Vec<String>,
    pub lease_ttl_secs: u64,
    /// Fixed for the life of the cluster (recorded in etcd by the first node).
    pub shards: u32,
    /// Every key of this cluster starts with it: `/` and path segments, no trailing `/`.
    pub key_prefix: String,
}

/// A refused `[cluster]` value: the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cluster.{key}: {reason}")]
pub struct ClusterConfigError {
    pub key: &'static str,
    pub reason: String,
}

fn refuse(key: &'static str, reason: impl Into<String>) -> ClusterConfigError {
    ClusterConfigError { key, reason: reason.into() }
}

impl ClusterSpec {
    /// Checks every value and applies the defaults.
    pub fn resolve(self) -> Result<ClusterConfig, ClusterConfigError> {
        check_node_id(&self.node_id)?;
        let advertise_url = check_http_url("advertise_url", &self.advertise_url)?;
        if self.etcd_endpoints.is_empty() || self.etcd_endpoints.len() > CLUSTER_ETCD_ENDPOINTS_MAX {
            let reason = format!("list 1..={CLUSTER_ETCD_ENDPOINTS_MAX} etcd members as \"http://host:port\"");
            return Err(refuse("etcd_endpoints", reason));
        }
        let etcd_endpoints =
            self.etcd_endpoints.iter().map(|e| check_http_url("etcd_endpoints", e)).collect::<Result<_, _>>()?;
        let lease_ttl_secs = self.lease_ttl_secs.unwrap_or(CLUSTER_LEASE_TTL_SECS_DEFAULT);
        if !(CLUSTER_LEASE_TTL_SECS_MIN..=CLUSTER_LEASE_TTL_SECS_MAX).contains(&lease_ttl_secs) {
            let reason = format!("must be {CLUSTER_LEASE_TTL_SECS_MIN}..={CLUSTER_LEASE_TTL_SECS_MAX} seconds");
            return Err(refuse("lease_ttl_secs", reason));
        }
        let shards = self.shards.unwrap_or(CLUSTER_SHARDS_DEFAULT);
        if !(1..=CLUSTER_SHARDS_MAX).contains(&shards) {
            return Err(refuse("shards", format!("must be 1..={CLUSTER_SHARDS_MAX}")));
        }
        let key_prefix = self.key_prefix.unwrap_or_else(|| KEY_PREFIX_DEFAULT.into());
        check_key_prefix(&key_prefix)?;
        Ok(ClusterConfig { node_id: self.node_id, advertise_url, etcd_endpoints, lease_ttl_secs, shards, key_prefix })
    }
}

fn check_node_id(id: &str) -> Result<(), ClusterConfigError> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
    if id.is_empty() || id.len() > CLUSTER_NODE_ID_LEN_MAX || !id.bytes().all(allowed) {
        let reason = format!("must be 1..={CLUSTER_NODE_ID_LEN_MAX} characters of a-z 0-9 _ -, got {id:?}");
        return Err(refuse("node_id", reason));
    }
    Ok(())
}

/// `http://host:port` (a trailing `/` is dropped); nothing after the authority, since
/// paths are appended to it. TLS to peers and etcd is not supported yet.
fn check_http_url(key: &'static str, text: &str) -> Result<String, ClusterConfigError> {
    let bad = |why: &str| refuse(key, format!("{text:?} is not an http://host:port URL: {why}"));
    let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" {
        return Err(bad("only http is supported (no TLS yet)"));
    }
    if url.host_str().is_none_or(str::is_empty) || url.port_or_known_default().is_none() {
        return Err(bad("no host"));
    }
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !bare || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not carry a path, query or credentials"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn check_key_prefix(prefix: &str) -> Result<(), ClusterConfigError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"/_.-".contains(&b);
    let shaped = prefix.starts_with('/') && !prefix.ends_with('/') && !prefix.contains("//");
    if prefix.len() < 2 || prefix.len() > CLUSTER_KEY_PREFIX_LEN_MAX || !shaped || !prefix.bytes().all(allowed) {
        let reason = format!(
            "must look like \"/qskip\" or \"/team/qskip\" (2..={CLUSTER_KEY_PREFIX_LEN_MAX} characters of \
             A-Z a-z 0-9 / _ . -, starting with / and not ending with it), got {prefix:?}"
        );
        return Err(refuse("key_prefix", reason));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ClusterSpec {
        ClusterSpec {
            node_id: "node-1".into(),
            advertise_url: "http://127.0.0.1:8081/".into(),
            etcd_endpoints: vec!["http://127.0.0.1:2379".into()],
            lease_ttl_secs: None,
            shards: None,
            key_prefix: None,
        }
    }

    fn refused(spec: ClusterSpec) -> &'static str {
        spec.resolve().expect_err("refused").key
    }

    #[test]
    fn defaults_apply_and_urls_lose_their_trailing_slash() {
        let config = spec().resolve().expect("valid");
        assert_eq!(config.lease_ttl_secs, CLUSTER_LEASE_TTL_SECS_DEFAULT);
        assert_eq!(config.shards, CLUSTER_SHARDS_DEFAULT);
        assert_eq!(config.key_prefix, KEY_PREFIX_DEFAULT);
        assert_eq!(config.advertise_url, "http://127.0.0.1:8081");
    }

    #[test]
    fn each_bad_value_is_refused_under_its_own_key() {
        assert_eq!(refused(ClusterSpec { node_id: "Node 1".into(), ..spec() }), "node_id");
        assert_eq!(refused(ClusterSpec { node_id: String::new(), ..spec() }), "node_id");
        assert_eq!(refused(ClusterSpec { advertise_url: "127.0.0.1:8081".into(), ..spec() }), "advertise_url");
        assert_eq!(refused(ClusterSpec { advertise_url: "https://a:1".into(), ..spec() }), "advertise_url");
        assert_eq!(refused(ClusterSpec { advertise_url: "http://a:1/x".into(), ..spec() }), "advertise_url");
        assert_eq!(refused(ClusterSpec { etcd_endpoints: vec![], ..spec() }), "etcd_endpoints");
        assert_eq!(refused(ClusterSpec { etcd_endpoints: vec!["nope".into()], ..spec() }), "etcd_endpoints");
        assert_eq!(refused(ClusterSpec { lease_ttl_secs: Some(1), ..spec() }), "lease_ttl_secs");
        assert_eq!(refused(ClusterSpec { lease_ttl_secs: Some(301), ..spec() }), "lease_ttl_secs");
        assert_eq!(refused(ClusterSpec { shards: Some(0), ..spec() }), "shards");
        assert_eq!(refused(ClusterSpec { shards: Some(CLUSTER_SHARDS_MAX + 1), ..spec() }), "shards");
        for prefix in ["qskip", "/", "/qskip/", "/a//b", "/a b"] {
            assert_eq!(refused(ClusterSpec { key_prefix: Some(prefix.into()), ..spec() }), "key_prefix", "{prefix}");
        }
    }

    #[test]
    fn the_message_names_the_key() {
        let error = ClusterSpec { shards: Some(0), ..spec() }.resolve().expect_err("refused");
        assert!(error.to_string().starts_with("cluster.shards: "), "{error}");
    }
}
