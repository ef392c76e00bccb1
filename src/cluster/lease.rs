//! Keeps the node's etcd lease alive, and says when it is gone.
//!
//! A keep-alive goes out every third of the TTL, so two can be lost before the lease
//! expires. A failed stream is reopened after a pause (etcd down, leader change);
//! when etcd answers that the lease has no time left (it expired while this node was
//! cut off or paused, or it was revoked), the lease is lost for good: everything
//! under it (the node key and its owner keys) is gone, and the node must join anew.

use std::time::{Duration, Instant};

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
    /// When the newest keep-alive that etcd answered was sent (at first: when the
    /// lease was asked for). The lease is good until this plus its TTL at least; past
    /// that this node cannot know it still holds anything.
    pub renewed: watch::Receiver<Instant>,
}

impl LeaseKeeper {
    /// Keeps `lease` (granted with `ttl_secs`, asked for at `asked_at`) alive.
    pub fn start(client: Client, lease: i64, ttl_secs: u64, asked_at: Instant) -> Self {
        let (lost_tx, lost) = watch::channel(false);
        let (renewed_tx, renewed) = watch::channel(asked_at);
        let every = Duration::from_millis(ttl_secs * 1_000 / 3);
        let task = tokio::spawn(keep(client, lease, every, Signals { lost: lost_tx, renewed: renewed_tx }));
        Self { lease, registered_at: 0, task, lost, renewed }
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

/// What the keep-alive task tells the node.
struct Signals {
    lost: watch::Sender<bool>,
    renewed: watch::Sender<Instant>,
}

async fn keep(mut client: Client, lease: i64, every: Duration, signals: Signals) {
    let mut pause = Pause::new();
    loop {
        match stream(&mut client, lease, every, &mut pause, &signals.renewed).await {
            Err(ClusterError::LeaseLost(_)) => {
                tracing::error!(lease = format!("{lease:x}"), "the node's etcd lease expired");
                let _ = signals.lost.send(true);
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

async fn stream(
    client: &mut Client,
    lease: i64,
    every: Duration,
    pause: &mut Pause,
    renewed: &watch::Sender<Instant>,
) -> Result<(), ClusterError> {
    let (mut keeper, mut answers) = bounded(client.lease_keep_alive(lease)).await?;
    loop {
        let sent_at = Instant::now();
        bounded(keeper.keep_alive()).await?;
        let answer = bounded(answers.message()).await?;
        let ttl = answer.ok_or_else(|| ClusterError::Etcd(etcd_client::Error::WatchError("stream ended".into())))?;
        if ttl.ttl() <= 0 {
            return Err(ClusterError::LeaseLost(lease));
        }
        renewed.send_replace(sent_at);
        pause.reset();
        tokio::time::sleep(every).await;
    }
}
