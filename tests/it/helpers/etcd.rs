//! A throwaway etcd cluster for the cluster tests: 1 or 3 members of Debian's
//! `etcd-server` on 127.0.0.1 random free ports, data dirs in a temp dir, each process
//! started and killed by its PID (SIGKILL on drop). Ready once every running member
//! answers `/health` with a leader, waited for with a deadline.
//!
//! Without the `etcd` binary the tests fail saying so, never skip: `.ci/run` installs
//! it (`apt-get install etcd-server`); `QSKIP_ETCD` names another binary.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

use super::{Deadline, PATIENCE, eventually, http_client};

const ETCD_DEFAULT: &str = "/usr/bin/etcd";

/// The etcd binary, or a failure naming the missing package.
pub fn etcd_binary() -> PathBuf {
    let path = PathBuf::from(std::env::var("QSKIP_ETCD").unwrap_or_else(|_| ETCD_DEFAULT.into()));
    assert!(
        path.is_file(),
        "etcd is missing: {} does not exist. The cluster tests need Debian's etcd-server package \
         (`apt-get install etcd-server`; .ci/run installs it) or QSKIP_ETCD naming an etcd 3.4+ binary",
        path.display()
    );
    path
}

/// Ports on 127.0.0.1 that were free a moment ago (all held until all are chosen, so
/// they differ). Another process may take one before it is used: a start then fails
/// with etcd's "address already in use" in the failure message.
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<_> =
        (0..count).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port")).collect();
    listeners.iter().map(|l| l.local_addr().expect("a bound address").port()).collect()
}

/// One member: its URLs and, while it runs, its process.
pub struct EtcdMember {
    pub name: String,
    pub client_url: String,
    peer_url: String,
    data_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl EtcdMember {
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the member logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn spawn(&mut self, initial_cluster: &str) {
        let log = File::create(&self.log).expect("create the etcd log file");
        let child = Command::new(etcd_binary())
            .arg("--name")
            .arg(&self.name)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen-client-urls", &self.client_url, "--advertise-client-urls", &self.client_url])
            .args(["--listen-peer-urls", &self.peer_url, "--initial-advertise-peer-urls", &self.peer_url])
            .args(["--initial-cluster", initial_cluster, "--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "qskip-test", "--logger", "zap", "--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run etcd: {e}"));
        self.child = Some(child);
    }

    /// SIGKILL by PID and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn exited(&mut self) -> Option<String> {
        let status = self.child.as_mut()?.try_wait().expect("try_wait on etcd")?;
        Some(format!("etcd {} exited with {status}; log: {}", self.name, self.log()))
    }
}

/// A running etcd cluster; every member is killed on drop.
pub struct EtcdCluster {
    pub members: Vec<EtcdMember>,
    _dir: TempDir,
}

impl EtcdCluster {
    /// Starts `size` members (1 or 3) and waits until each reports a healthy leader.
    pub async fn start(size: usize) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let ports = free_ports(size * 2);
        let mut members: Vec<EtcdMember> = (0..size)
            .map(|i| EtcdMember {
                name: format!("etcd{i}"),
                client_url: format!("http://127.0.0.1:{}", ports[2 * i]),
                peer_url: format!("http://127.0.0.1:{}", ports[2 * i + 1]),
                data_dir: dir.path().join(format!("etcd{i}")),
                log: dir.path().join(format!("etcd{i}.log")),
                child: None,
            })
            .collect();
        let initial: Vec<String> = members.iter().map(|m| format!("{}={}", m.name, m.peer_url)).collect();
        for member in &mut members {
            member.spawn(&initial.join(","));
        }
        let mut cluster = Self { members, _dir: dir };
        cluster.wait_healthy().await;
        cluster
    }

    /// `http://127.0.0.1:port` of every member, for `[cluster] etcd_endpoints`.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Waits until every running member answers `/health` with `"health":"true"`.
    pub async fn wait_healthy(&mut self) {
        let client = http_client();
        let deadline = Deadline::new("etcd to be healthy", PATIENCE);
        for i in 0..self.members.len() {
            let url = format!("{}/health", self.members[i].client_url);
            eventually("an etcd member to be healthy", || {
                let (client, url) = (client.clone(), url.clone());
                let exited = self.members[i].exited();
                async move {
                    if let Some(exited) = exited {
                        panic!("{exited}");
                    }
                    let body = client.get(&url).send().await.map_err(|e| e.to_string())?.text().await;
                    let body = body.map_err(|e| e.to_string())?;
                    if body.contains(r#""health":"true""#) { Ok(()) } else { Err(body) }
                }
            })
            .await;
            if deadline.passed() {
                deadline.fail(self.members[i].log());
            }
        }
    }

    /// The index of the member that is the raft leader, as the members say (through
    /// etcd's JSON gateway, `/v3/maintenance/status`), once one is.
    pub async fn leader(&self) -> usize {
        let client = http_client();
        eventually("an etcd leader", || async {
            let mut last = String::new();
            for (i, member) in self.members.iter().enumerate().filter(|(_, m)| m.child.is_some()) {
                let url = format!("{}/v3/maintenance/status", member.client_url);
                let status = client.post(&url).body("{}").send().await.map_err(|e| e.to_string())?;
                let status: serde_json::Value = status.json().await.map_err(|e| e.to_string())?;
                if status["leader"].is_string() && status["leader"] == status["header"]["member_id"] {
                    return Ok(i);
                }
                last = status.to_string();
            }
            Err(last)
        })
        .await
    }

    pub fn data_root(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for member in &mut self.members {
            member.kill();
        }
    }
}
