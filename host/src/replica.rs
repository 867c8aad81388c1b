//! One replica: the store, the plugin runtime, the settings cache, membership, the scheduler
//! and the HTTP API, started together and stopped in order (jobs handed to live peers as their
//! runs in flight finish → no new ticks → the rest finish within the grace period → what is
//! left is released for the peers, or kept by the last replica standing → deregistered).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::cluster::{Health, Membership, MembershipOptions};
use crate::runtime::{EngineOptions, Runtime};
use crate::scheduler::{Command, DbClock, Executor, RunLedger, Scheduler, SchedulerHandle};
use crate::settings::SettingsCache;
use crate::store::Store;

/// How often the leader does cluster housekeeping.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);

/// Instance rows without a heartbeat for this long (and owning no job) are deleted.
const STALE_INSTANCE_AFTER: Duration = Duration::from_secs(3600);

/// How a replica is configured (from the command line).
#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    pub db_url: String,
    pub plugins_dir: PathBuf,
    pub cache_dir: Option<PathBuf>,
    pub listen: SocketAddr,
    pub instance_id: String,
    pub advertise: String,
    pub heartbeat_interval: Duration,
    pub dead_after: Duration,
    pub grace_period: Duration,
    pub settings_ttl: Duration,
    pub jobs_file: Option<PathBuf>,
    pub pooling: bool,
    pub api_token: Option<String>,
}

/// A started replica.
pub struct Replica {
    pub options: ReplicaOptions,
    pub store: Store,
    pub runtime: Runtime,
    pub settings: SettingsCache,
    pub health: Arc<Health>,
    pub membership: Membership,
    pub scheduler: SchedulerHandle,
    pub clock: DbClock,
    pending_scheduler: Mutex<Option<Scheduler>>,
    /// The API's listener, bound by [`Self::start`] and served by [`Self::serve_until`].
    pending_listener: Mutex<Option<tokio::net::TcpListener>>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("instance_id", &self.options.instance_id)
            .finish()
    }
}

/// A future that resolves when the watch turns true.
async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

impl Replica {
    /// Connect, migrate, load settings and plugins, bind the API's address. Nothing is scheduled
    /// (nor served) until [`Self::serve_until`].
    pub async fn start(mut options: ReplicaOptions) -> anyhow::Result<Self> {
        let redacted = crate::cli::redact(&options.db_url);
        let store = Store::connect(&options.db_url)
            .await
            .with_context(|| format!("cannot use the database at {redacted}"))?;
        store
            .migrate()
            .await
            .with_context(|| format!("cannot migrate the database at {redacted}"))?;
        let settings = SettingsCache::load(&store, options.settings_ttl)
            .await
            .context("cannot read the cluster settings")?;
        let runtime = Runtime::new(
            &EngineOptions {
                pooling: options.pooling,
                max_instances: (settings.get().max_concurrent_runs as u32).clamp(64, 4096),
            },
            options.plugins_dir.clone(),
            options.cache_dir.as_deref(),
        )?;
        if !options.plugins_dir.is_dir() {
            tracing::warn!(dir = %options.plugins_dir.display(), "plugins directory does not exist (yet); watching for it");
        }
        runtime.plugins.scan().await;
        let health = Arc::new(Health::default());
        health.set_plugins_loaded();
        health.set_database(true);

        // A new incarnation fences whatever a previous process with this id left running.
        let released = store.release_jobs(&options.instance_id).await?;
        if released > 0 {
            tracing::info!(
                released,
                "released jobs held by a previous run of this replica"
            );
        }
        // Bound before membership is set up, so that with a listen port of 0 (any free port)
        // the port actually bound is known: an advertise address on port 0 (the default
        // address then) is given that port, and `serve_until` logs the bound address.
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let bound = listener
            .local_addr()
            .context("cannot read the bound address")?;
        if let Some(host) = options.advertise.strip_suffix(":0") {
            options.advertise = format!("{host}:{}", bound.port());
        }
        let clock = DbClock::new(store.now_ms().await?);
        let ledger = RunLedger::start(store.clone());
        let executor = Arc::new(Executor::new(
            store.clone(),
            runtime.clone(),
            ledger,
            options.instance_id.clone(),
            settings.clone(),
            options.grace_period,
        ));
        let (scheduler, handle) = Scheduler::new(clock.clone(), executor);
        if settings.get().scheduler_paused {
            handle.send(Command::ClusterPaused(true));
        }
        let membership = Membership::new(
            store.clone(),
            MembershipOptions {
                instance_id: options.instance_id.clone(),
                address: options.advertise.clone(),
                heartbeat_interval: options.heartbeat_interval,
                dead_after: options.dead_after,
            },
            clock.clone(),
            handle.clone(),
            health.clone(),
        );
        let replica = Replica {
            options,
            store,
            runtime,
            settings,
            health,
            membership,
            scheduler: handle,
            clock,
            pending_scheduler: Mutex::new(Some(scheduler)),
            pending_listener: Mutex::new(Some(listener)),
        };
        if let Some(path) = replica.options.jobs_file.clone() {
            crate::jobs_file::apply(&replica.store, &path).await?;
        }
        Ok(replica)
    }

    /// Serve until `signal` resolves, then shut down gracefully.
    pub async fn serve_until(
        self: Arc<Self>,
        signal: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let scheduler = self
            .pending_scheduler
            .lock()
            .expect("scheduler lock")
            .take()
            .context("replica already serving")?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let listener = self
            .pending_listener
            .lock()
            .expect("listener lock")
            .take()
            .context("replica already serving")?;
        // The address actually bound (with port 0 in `--listen`, the port the system picked).
        let bound = listener
            .local_addr()
            .context("cannot read the bound address")?;
        tracing::info!(
            instance = %self.options.instance_id,
            listen = %bound,
            db = %crate::cli::redact(&self.options.db_url),
            "wasmcron replica serving"
        );

        let grace = self.options.grace_period;
        let sched_task = tokio::spawn(scheduler.run(stopped(stop_rx.clone()), grace));
        let this = self.clone();
        let rx = stop_rx.clone();
        let membership_task = tokio::spawn(async move { this.membership.run(stopped(rx)).await });
        let this = self.clone();
        let rx = stop_rx.clone();
        let watch_task = tokio::spawn(async move {
            let membership = this.membership.clone();
            this.runtime
                .watch(stopped(rx), move |_change| membership.poke_local())
                .await
        });
        let this = self.clone();
        let rx = stop_rx.clone();
        let settings_task = tokio::spawn(async move {
            let handle = this.scheduler.clone();
            let mut paused = this.settings.get().scheduler_paused;
            this.settings
                .run(this.store.clone(), stopped(rx), move |s| {
                    if s.scheduler_paused != paused {
                        paused = s.scheduler_paused;
                        tracing::info!(paused, "scheduler.paused changed");
                        handle.send(Command::ClusterPaused(paused));
                    }
                })
                .await
        });
        let this = self.clone();
        let rx = stop_rx.clone();
        let housekeeping_task = tokio::spawn(async move { this.housekeeping(stopped(rx)).await });

        let app = crate::api::router(self.clone());
        let (http_stop_tx, http_stop_rx) = watch::channel(false);
        let server = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped(http_stop_rx))
                .into_future(),
        );

        signal.await;
        tracing::info!(
            "shutting down: handing jobs to live peers; runs in flight may finish within {}",
            humantime::format_duration(grace)
        );
        // Hand every job to the live peers as soon as its run in flight (if any) finishes, so
        // a rolling update loses no tick; the scheduler keeps the others going meanwhile.
        let (handed, peers) = self.membership.hand_off_all(grace).await;
        if peers > 0 {
            tracing::info!(handed, peers, "jobs handed to live peers");
        } else {
            tracing::info!("no live peer: this replica keeps its jobs");
        }
        let _ = stop_tx.send(true);
        let _ = sched_task.await;
        let _ = membership_task.await;
        let _ = watch_task.await;
        let _ = settings_task.await;
        let _ = housekeeping_task.await;
        if peers > 0 {
            // Whatever could not be handed over in time: peers claim it at once.
            match self.store.release_jobs(&self.options.instance_id).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "remaining jobs released for the peers"),
                Err(e) => {
                    tracing::error!(error = %e, "cannot release jobs; peers take them after the dead threshold")
                }
            }
        }
        self.membership.leave().await;
        let _ = http_stop_tx.send(true);
        let _ = server.await;
        tracing::info!("stopped");
        Ok(())
    }

    /// Cluster housekeeping, on the leader only (every minute): run-history retention and
    /// instance rows that have not heartbeat for an hour and own no job.
    async fn housekeeping(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(HOUSEKEEPING_INTERVAL) => {}
            }
            if self.membership.leadership().confirmed().await.is_none() {
                continue;
            }
            let retention = self.settings.get().runs_retention.as_millis() as i64;
            let cutoff = self.clock.now_ms() - retention;
            match self.store.delete_runs_before(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "old runs deleted (retention)"),
                Err(e) => tracing::warn!(error = %e, "retention failed"),
            }
            let stale = STALE_INSTANCE_AFTER.max(self.options.dead_after * 2);
            match self
                .store
                .delete_stale_instances(stale.as_millis() as i64)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "stale instance rows deleted"),
                Err(e) => tracing::warn!(error = %e, "cannot delete stale instance rows"),
            }
        }
    }
}
