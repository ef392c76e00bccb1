//! Keeps the node's etcd lease alive, and says when it is gone.
//!
//! A keep-alive goes out every third of the TTL, so two can be lost before the lease
//! expires. A failed stream is reopened after a pause (etcd down, leader change);
//! when etcd answers that the lease has no time left (it expired while this node was
//! cut off or paused, or it was revoked), the lease is lost for good: everything
//! under it (the node key and its owner keys) is gone, and the node must join anew.

use std::time::Duration;

use etcd_client::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error::ClusterError;
use super::etcd::bounded;
use super::retry::Pause;

/// The keep-alive task of one lease; dropping it stops the task.
pub struct LeaseKeeper {
    pub lease: i64,
    /// Revision of the node's registration under this lease (0 until registered): a
    /// later deletion of the node key ends this lease's membership, an earlier one is
    /// an older lease's.
    pub registered_at: i64,
    task: JoinHandle<()>,
    /// Becomes `true` once etcd says the lease is gone.
    pub lost: watch::Receiver<bool>,
}

impl LeaseKeeper {
    pub fn start(client: Client, lease: i64, ttl_secs: u64) -> Self {
        let (lost_tx, lost) = watch::channel(false);
        let every = Duration::from_millis(ttl_secs * 1_000 / 3);
        let task = tokio::spawn(keep(client, lease, every, lost_tx));
        Self { lease, registered_at: 0, task, lost }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for LeaseKeeper {
    /// A keeper nobody holds keeps nothing alive: the lease then expires on its own.
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn keep(mut client: Client, lease: i64, every: Duration, lost: watch::Sender<bool>) {
    let mut pause = Pause::new();
    loop {
        match stream(&mut client, lease, every, &mut pause).await {
            Err(ClusterError::LeaseLost(_)) => {
                tracing::error!(lease = format!("{lease:x}"), "the node's etcd lease expired");
                let _ = lost.send(true);
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "lease keep-alive failed; retrying");
                pause.wait().await;
            }
            Ok(()) => unreachable!("the keep-alive stream only ends with an error"),
        }
    }
}

async fn stream(client: &mut Client, lease: i64, every: Duration, pause: &mut Pause) -> Result<(), ClusterError> {
    let (mut keeper, mut answers) = bounded(client.lease_keep_alive(lease)).await?;
    loop {
        bounded(keeper.keep_alive()).await?;
        let answer = bounded(answers.message()).await?;
        let ttl = answer.ok_or_else(|| ClusterError::Etcd(etcd_client::Error::WatchError("stream ended".into())))?;
        if ttl.ttl() <= 0 {
            return Err(ClusterError::LeaseLost(lease));
        }
        pause.reset();
        tokio::time::sleep(every).await;
    }
}
