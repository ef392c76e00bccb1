//! Wiring: open the log, start the journal, load venues, start the registry and the
//! HTTP server. `Application::build` binds the port so tests can use port 0 and read
//! the real one (the `spawn_app` pattern of "Zero To Production in Rust").

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, web};
use anyhow::Context as _;
use tokio::sync::watch;

use crate::actors::{Registry, Shared};
use crate::backup::archive::Archiver;
use crate::clock::Clock;
use crate::cluster::ClusterNode;
use crate::config::{Config, PaymentProvider};
use crate::http::connections::ConnectionGuard;
use crate::http::rate_limit::ReserveRateLimit;
use crate::http::recovering::RecoveringServer;
use crate::http::{self, AppState};
use crate::notify::ledger::Ledger;
use crate::notify::mail::Links;
use crate::notify::{DevOutbox, Mailer, Notifier};
use crate::payments::{CheckoutService, RefundWorker, SessionExpiryWorker};
use crate::service::{ClientHolds, Services, Venues};
use crate::store::snapshot::{SnapshotDir, Snapshotter, recover_at_startup};
use crate::store::{EventLog, Journal, JournalError, JournalOptions};
use crate::stripe::{ClientConfig, StripeClient};
use tracing_actix_web::TracingLogger;

pub struct Application {
    addr: SocketAddr,
    server: actix_web::dev::Server,
    services: Services,
    journal: Journal,
    snapshotter: Snapshotter,
    fatal: watch::Receiver<Option<JournalError>>,
    /// Continuous archiving, when `[archive]` is configured.
    archiver: Option<Archiver>,
    /// Membership and shard ownership, when `[cluster]` is configured.
    cluster: Option<ClusterNode>,
}

/// Starts the Stripe workers (refunds, session expiry) when a secret key is configured,
/// and returns the checkout service when Stripe is the payment provider.
fn start_payments(
    config: &Config,
    services: &Services,
    public_url: &str,
) -> anyhow::Result<Option<Arc<CheckoutService>>> {
    let Some(stripe) = &config.payments.stripe else { return Ok(None) };
    let Some(secret_key) = &stripe.secret_key else { return Ok(None) };
    let mut client = ClientConfig::new(secret_key.clone());
    client.api_base = stripe.api_base.clone().unwrap_or(client.api_base);
    let client = StripeClient::new(client)?;
    RefundWorker::new(services.clone(), client.clone()).spawn();
    SessionExpiryWorker::new(services.clone(), client.clone()).spawn();
    tracing::info!("stripe refund and session-expiry workers started");
    let checkout = config.payments.provider == PaymentProvider::Stripe;
    Ok(checkout.then(|| Arc::new(CheckoutService::new(services.clone(), client, public_url.to_owned()))))
}

/// Starts the offer e-mail worker: through `[notify.smtp]` when configured, else into
/// the dev outbox when payments are the dev page (returned for `/dev/outbox`), else not
/// at all.
fn start_notifier(
    config: &Config,
    services: &Services,
    journal: &Journal,
    public_url: &str,
) -> anyhow::Result<Option<DevOutbox>> {
    let dev_payments = config.payments.provider == PaymentProvider::Dev;
    let (mailer, outbox) = match &config.notify.smtp {
        Some(smtp) => (Mailer::smtp(smtp)?, None),
        None if dev_payments => {
            let outbox = DevOutbox::default();
            (Mailer::Outbox(outbox.clone()), Some(outbox))
        }
        None => return Ok(None),
    };
    let ledger = Ledger::open(&config.data_dir).context("cannot open the notifier's ledger")?;
    let links = Links { public_url: public_url.to_owned(), dev_payments };
    Notifier::new(services.clone(), journal.clone(), mailer, links, ledger).spawn();
    tracing::info!(smtp = config.notify.smtp.is_some(), "offer e-mail worker started");
    Ok(outbox)
}

/// Joins the cluster in cluster mode. Before any data is touched: a node that may not
/// join (wrong shard count, id in use, no etcd) does not start at all.
async fn join_cluster(config: &Config) -> anyhow::Result<Option<ClusterNode>> {
    let Some(cluster) = config.cluster.clone() else { return Ok(None) };
    let etcd = cluster.etcd_endpoints.join(",");
    let joined = ClusterNode::join(cluster).await;
    Ok(Some(joined.with_context(|| format!("cannot join the cluster (etcd at {etcd})"))?))
}

impl Application {
    /// Binds the listener, opens storage and recovers state (newest good snapshot + log
    /// tail) while a stand-in answers `503 not_ready` on the port (`/healthz` 200): no
    /// request reaches state before recovery is done. The full API is served from
    /// [`Application::run_until_stopped`] on.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        crate::telemetry::prometheus();
        let listener = TcpListener::bind(&config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
        let recovering = RecoveringServer::start(&listener)?;
        let built = Self::recover_and_wire(config, clock, listener).await;
        recovering.stop().await;
        built
    }

    async fn recover_and_wire(config: Config, clock: Arc<dyn Clock>, listener: TcpListener) -> anyhow::Result<Self> {
        let cluster = join_cluster(&config).await?;
        let log = EventLog::open(&config.data_dir)?;
        let snapshots = SnapshotDir::of_data_dir(&config.data_dir);
        let recovered = {
            let (log, snapshots, now) = (log.clone(), snapshots.clone(), clock.now());
            // Recovery reads the whole tail: off the runtime, so the stand-in answers.
            tokio::task::spawn_blocking(move || recover_at_startup(&log, &snapshots, now)).await??
        };
        let (fatal_tx, fatal) = watch::channel(None);
        let on_fatal = Box::new(move |e: &JournalError| drop(fatal_tx.send(Some(e.clone()))));
        let journal = Journal::start(log.clone(), JournalOptions::default(), on_fatal)?;
        let archive = config.archive.clone();
        let archiver = archive.map(|a| Archiver::start(log.clone(), journal.clone(), a)).transpose()?;
        let venues = Venues::load_and_seed(&log, &journal, clock.as_ref(), &config.venues).await?;
        let actor_idle = std::time::Duration::from_secs(config.actor_idle_secs);
        let live = crate::actors::live_hub::LiveHub::with_per_client_max(config.limits.stream_cap());
        let shared = Shared {
            log: log.clone(),
            journal: journal.clone(),
            clock: clock.clone(),
            actor_idle,
            live,
            activity: Default::default(),
            prices: venues.price_book(),
            view: Default::default(),
            passivation_checks: Default::default(),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let registry = Registry::new(shared.clone(), cores);
        let limits = &config.limits;
        let client_holds = limits.enabled.then(|| ClientHolds::new(limits.active_hold_slots_per_client));
        let services = Services::new(shared, registry, venues, config.sales_horizon_days, client_holds)
            .with_waitlist_offer_secs(config.waitlist_offer_secs);
        let resumed = services.recovery.start_recovered(recovered.state.windows.values().cloned());
        tracing::info!(windows = resumed, "started the actors of recovered live windows");
        let snapshotter = Snapshotter::start(log, snapshots, clock, config.snapshot_every_events, recovered.state)?;
        let addr = listener.local_addr()?;
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let checkout = start_payments(&config, &services, &public_url)?;
        let dev_outbox = start_notifier(&config, &services, &journal, &public_url)?;
        let state = web::Data::new(AppState {
            services: services.clone(),
            journal: journal.clone(),
            public_url,
            dev_payments: config.payments.provider == PaymentProvider::Dev,
            webhook_secrets: config.payments.stripe.iter().flat_map(|s| s.webhook_secrets.iter().cloned()).collect(),
            checkout,
            rate_limit: limits.enabled.then(|| ReserveRateLimit::new(limits.reservations_per_ip_per_minute)),
            client_ip_header: limits.client_ip_header.clone(),
            admin_token: config.admin_token.clone(),
            hold_ttl_secs_default: config.hold_ttl_secs,
            cluster: cluster.as_ref().map(ClusterNode::subscribe),
            dev_outbox,
        });
        let guard = ConnectionGuard::new(limits.connection_cap());
        let server = http::server::serve(listener, guard, move || {
            App::new()
                .configure(|cfg| http::configure(cfg, state.clone()))
                .default_service(web::to(http::not_found))
                .wrap_fn(http::request_id::add_header)
                .wrap(TracingLogger::default())
        })?;
        Ok(Self { addr, server, services, journal, snapshotter, fatal, archiver, cluster })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The node's cluster membership, in cluster mode.
    pub fn cluster(&self) -> Option<&ClusterNode> {
        self.cluster.as_ref()
    }

    /// Serves until a signal stops the server (graceful) or the journal fails (fatal:
    /// the error is returned so the process exits non-zero).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { server, journal, mut fatal, services, snapshotter, archiver, cluster, .. } = self;
        let handle = server.handle();
        let result = tokio::select! {
            served = server => served.context("HTTP server failed"),
            failed = fatal.wait_for(Option::is_some) => {
                let error = failed.ok().and_then(|f| f.clone()).map_or("journal stopped".into(), |e| e.to_string());
                // Graceful: requests in flight get their answer (a 503: the journal
                // refuses everything now), new connections are no longer accepted.
                handle.stop(true).await;
                Err(anyhow::anyhow!("stopping: {error}"))
            }
        };
        // First, so that the other nodes take this node's shards over at once.
        if let Some(cluster) = cluster {
            cluster.leave().await;
        }
        services.windows.shutdown();
        journal.shutdown();
        if let Some(archiver) = archiver {
            archiver.stop(result.is_ok()).await;
        }
        // A graceful stop leaves a snapshot of everything, so the next start folds
        // nothing; after a journal failure the log is not trusted to be complete.
        snapshotter.stop(result.is_ok());
        result
    }
}
