//! One replica: the store, the plugin runtime, the settings cache, membership, the scheduler,
//! the housekeeping services and the HTTP API, started together and stopped in order (jobs
//! handed to live peers as their runs in flight finish → every background task stopped by
//! one signal, the scheduler letting runs in flight finish within the grace period → what is
//! left is released for the peers, or kept by the last replica standing → deregistered → the
//! HTTP server stops).
//!
//! - [`options`]: the configuration;
//! - [`tasks`]: the background tasks and their one stop signal.

mod identity;
mod options;
mod tasks;

use std::sync::{Arc, Mutex};

use anyhow::Context;

pub use options::ReplicaOptions;
pub use tasks::{StopSignal, Tasks};

use crate::alerts::{AlertQueue, AlertWriter};
use crate::api::{ApiState, ReplicaInfo};
use crate::clock::DbClock;
use crate::cluster::{Health, Membership, MembershipOptions};
use crate::events::{Event, EventHub, EventWriter, Publisher};
use crate::jobs::{ChangeSignal, Jobs};
use crate::jobs_file::SharedStatus;
use crate::registry::{Follower, Registry};
use crate::runtime::{EngineOptions, Runtime, SecretsDir};
use crate::scheduler::{Command, Executor, RetryBook, RunLedger, Scheduler, SchedulerHandle};
use crate::settings::SettingsCache;
use crate::store::{ConnectOptions, Store, StoreError, redact_url};

/// How long a stopping replica waits for its open HTTP connections to end before closing them.
const HTTP_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Connects to the database at `url` and brings its schema up to date; an error names the URL
/// (password redacted) and says what to do where the store can tell.
pub async fn open_store(url: &str, options: ConnectOptions) -> anyhow::Result<Store> {
    let redacted = redact_url(url);
    let explain = |e: StoreError, what: &str| match e.hint() {
        Some(hint) => anyhow::anyhow!("{what} the database at {redacted}: {e}; {hint}"),
        None => anyhow::anyhow!("{what} the database at {redacted}: {e}"),
    };
    let store = Store::connect_with(url, options)
        .await
        .map_err(|e| explain(e, "cannot use"))?;
    store
        .migrate()
        .await
        .map_err(|e| explain(e, "cannot migrate"))?;
    Ok(store)
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
    pub jobs: Jobs,
    pub events: Publisher,
    /// What this replica knows of its jobs file (none without `--jobs-file`).
    pub jobs_file: SharedStatus,
    signal: ChangeSignal,
    /// The ticks whose retries this replica's executor answers for.
    retries: RetryBook,
    /// The lock file that holds this replica's instance id, if one does.
    _identity_file: Option<std::fs::File>,
    /// What [`Self::start`] prepares and [`Self::serve_until`] runs.
    pending: Mutex<Option<Pending>>,
}

/// The parts of a started replica that only run once it serves.
struct Pending {
    scheduler: Scheduler,
    /// The API's listener, bound by [`Replica::start`].
    listener: tokio::net::TcpListener,
    events: EventWriter,
    /// Writes raised alerts into the outbox.
    alerts: AlertWriter,
    /// The registry follower, when plugins are fetched from registries.
    follower: Option<Follower>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("instance_id", &self.options.instance_id)
            .finish()
    }
}

impl Replica {
    /// Connect, migrate, load settings and plugins, bind the API's address. Nothing is
    /// scheduled (nor served) until [`Self::serve_until`].
    pub async fn start(mut options: ReplicaOptions) -> anyhow::Result<Self> {
        if let Some(token) = &options.api_token {
            crate::api::check_bootstrap_token(token).map_err(anyhow::Error::msg)?;
        }
        let store = open_store(&options.db_url, options.db_connect.clone()).await?;
        // Before anything is written on this id's behalf.
        let identity = identity::claim(&store, &options).await?;
        let settings = SettingsCache::load(&store, options.settings_ttl)
            .await
            .context("cannot read the cluster settings")?;
        let runtime = Runtime::with_compiler(
            &EngineOptions {
                pooling: options.pooling,
                max_instances: (settings.get().max_concurrent_runs as u32).clamp(64, 4096),
            },
            options.plugins_dir.clone(),
            options.cache_dir.as_deref(),
            options.compiler.clone(),
        )?
        .with_secrets(SecretsDir::new(options.secrets_dir.clone()));
        if !options.plugins_dir.is_dir() {
            tracing::warn!(dir = %options.plugins_dir.display(), "plugins directory does not exist (yet); watching for it");
        }
        let follower = follower(&options, &runtime)?;
        if let Some(follower) = &follower {
            follower.refresh().await;
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
        // Plugins reach the replica's own API only through an entry naming its address.
        let advertised = crate::runtime::egress::resolve_own(&options.advertise).await;
        runtime.engine.own_addresses().set(bound, &advertised);
        let clock = DbClock::new(store.now_ms().await?);
        let (alerts, alert_writer) = AlertQueue::new(store.clone(), settings.clone());
        let (events, event_writer) = Publisher::new(store.clone());
        let events = events.with_alerts(alerts);
        let ledger = RunLedger::start(store.clone());
        let signal = ChangeSignal::default();
        let jobs = Jobs::new(
            store.clone(),
            options.instance_id.clone(),
            signal.clone(),
            events.clone(),
        );
        let executor = Arc::new(
            Executor::new(
                store.clone(),
                runtime.clone(),
                ledger,
                options.instance_id.clone(),
                settings.clone(),
                events.clone(),
                options.grace_period,
            )
            .with_jobs(jobs.clone()),
        );
        let retries = executor.retries.clone();
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
            signal.clone(),
            identity.session,
        );
        Ok(Replica {
            options,
            store,
            runtime,
            settings,
            health,
            membership,
            scheduler: handle,
            clock,
            jobs,
            events,
            jobs_file: SharedStatus::default(),
            signal,
            retries,
            _identity_file: identity.file,
            pending: Mutex::new(Some(Pending {
                scheduler,
                listener,
                events: event_writer,
                alerts: alert_writer,
                follower,
            })),
        })
    }

    /// Serve until `shutdown` resolves, then shut down gracefully.
    pub async fn serve_until(
        self: Arc<Self>,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let Pending {
            scheduler,
            listener,
            events,
            alerts,
            follower,
        } = self
            .pending
            .lock()
            .expect("pending lock")
            .take()
            .context("replica already serving")?;
        // The address actually bound (with port 0 in `--listen`, the port the system picked).
        let bound = listener
            .local_addr()
            .context("cannot read the bound address")?;
        tracing::info!(
            instance = %self.options.instance_id,
            listen = %bound,
            db = %redact_url(&self.options.db_url),
            "wasmcron replica serving"
        );
        self.events.publish(Event::InstanceJoined {
            instance_id: self.options.instance_id.clone(),
            address: self.options.advertise.clone(),
        });
        let hub = EventHub::new(self.store.clone());
        let mut tasks = self.spawn_tasks(scheduler, (events, alerts), &hub);
        if let Some(follower) = follower {
            let interval = self.options.plugin_ref_interval;
            tasks.spawn("plugin references", |stop| {
                follower.run(interval, stop.wait())
            });
        }

        let app = crate::api::router(self.api_state(hub));
        let (http_stop_tx, mut http_stop_rx) = tokio::sync::watch::channel(false);
        let mut server = tokio::spawn(
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = http_stop_rx.wait_for(|stop| *stop).await;
            })
            .into_future(),
        );

        shutdown.await;
        let grace = self.options.grace_period;
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
        tasks.stop().await;
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
        // Answers in flight get a moment; an event stream (a dashboard left open) never ends
        // by itself, so what is still open then is closed (its client reconnects elsewhere).
        if tokio::time::timeout(HTTP_DRAIN, &mut server).await.is_err() {
            tracing::info!("closing the connections still open (event streams)");
            server.abort();
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// Every background task of the replica, under one stop signal.
    fn spawn_tasks(
        &self,
        scheduler: Scheduler,
        (events, alerts): (EventWriter, AlertWriter),
        hub: &Arc<EventHub>,
    ) -> Tasks {
        let mut tasks = Tasks::default();
        tasks.spawn_last("event writer", |stop| events.run(stop.wait()));
        tasks.spawn_last("alert writer", |stop| alerts.run(stop.wait()));
        let grace = self.options.grace_period;
        let id = &self.options.instance_id;
        tasks.spawn("scheduler", |stop| scheduler.run(stop.wait(), grace));
        let membership = self.membership.clone();
        tasks.spawn("membership", |stop| async move {
            membership.run(stop.wait()).await
        });
        let (runtime, signal) = (self.runtime.clone(), self.signal.clone());
        tasks.spawn("plugins", |stop| async move {
            runtime
                .watch(stop.wait(), move |_change| signal.jobs_changed())
                .await
        });
        let (settings, store, handle) = (
            self.settings.clone(),
            self.store.clone(),
            self.scheduler.clone(),
        );
        tasks.spawn("settings", |stop| async move {
            let mut paused = settings.get().scheduler_paused;
            settings
                .run(store, stop.wait(), move |s| {
                    if s.scheduler_paused != paused {
                        paused = s.scheduler_paused;
                        tracing::info!(paused, "scheduler.paused changed");
                        handle.send(Command::ClusterPaused(paused));
                    }
                })
                .await
        });
        tasks.spawn("manual triggers", |stop| {
            crate::scheduler::feed_triggers(
                self.store.clone(),
                id.clone(),
                self.scheduler.clone(),
                self.signal.clone(),
                stop.wait(),
            )
        });
        tasks.spawn("planned retries", |stop| {
            crate::scheduler::feed_retries(
                self.store.clone(),
                id.clone(),
                self.scheduler.clone(),
                self.retries.clone(),
                stop.wait(),
            )
        });
        let (store, events, leadership) = (
            self.store.clone(),
            self.events.clone(),
            self.membership.leadership().clone(),
        );
        tasks.spawn("stale jobs", |stop| {
            crate::housekeeping::watch_stale(store, events, leadership, stop.wait())
        });
        let services =
            crate::housekeeping::services(&self.store, &self.settings, self.options.dead_after);
        let (leadership, clock) = (self.membership.leadership().clone(), self.clock.clone());
        let every = self.options.housekeeping_interval;
        tasks.spawn("housekeeping", |stop| {
            crate::housekeeping::run(services, every, leadership, clock, stop.wait())
        });
        if let Some(path) = &self.options.jobs_file {
            let plugins = self.runtime.plugins.clone();
            let watcher = crate::jobs_file::Watcher {
                path: path.clone(),
                jobs: self.jobs.clone(),
                leadership: self.membership.leadership().clone(),
                clock: self.clock.clone(),
                events: self.events.clone(),
                instance_id: id.clone(),
                status: self.jobs_file.clone(),
                plugin_loaded: Arc::new(move |name| plugins.get(name).is_ok()),
            };
            tasks.spawn("jobs file", |stop| watcher.run(stop.wait()));
        }
        let hub = hub.clone();
        tasks.spawn("event notifications", |stop| {
            hub.follow_notifications(stop.wait())
        });
        tasks.spawn("plugin events", |stop| {
            crate::events::watch_plugins(
                self.events.clone(),
                self.runtime.plugins.clone(),
                id.clone(),
                stop.wait(),
            )
        });
        tasks.spawn("alert delivery", |stop| {
            crate::alerts::deliver_alerts(
                self.store.clone(),
                self.settings.clone(),
                self.runtime.engine.own_addresses().clone(),
                id.clone(),
                self.options.dead_after,
                stop.wait(),
            )
        });
        tasks.spawn("peer events", |stop| {
            crate::events::watch_peers(
                self.store.clone(),
                self.events.clone(),
                id.clone(),
                self.options.dead_after,
                stop.wait(),
            )
        });
        tasks
    }

    /// The handles the API's handlers use.
    fn api_state(&self, hub: Arc<EventHub>) -> ApiState {
        ApiState {
            info: Arc::new(ReplicaInfo {
                instance_id: self.options.instance_id.clone(),
                api_token: self.options.api_token.clone(),
                dead_after: self.options.dead_after,
            }),
            store: self.store.clone(),
            jobs: self.jobs.clone(),
            settings: self.settings.clone(),
            plugins: self.runtime.plugins.clone(),
            health: self.health.clone(),
            clock: self.clock.clone(),
            hub,
            events: self.events.clone(),
            jobs_file: self.jobs_file.clone(),
            token_uses: Arc::default(),
            limits: Arc::default(),
        }
    }
}

/// The registry follower of `options.plugin_refs`, if any; it keeps the fetched components
/// under the compiled-cache directory (`fetched/`).
fn follower(options: &ReplicaOptions, runtime: &Runtime) -> anyhow::Result<Option<Follower>> {
    if options.plugin_refs.is_empty() {
        return Ok(None);
    }
    let cache_dir = options
        .cache_dir
        .as_ref()
        .context("--plugin-ref needs a compiled-cache directory (--cache-dir)")?;
    Ok(Some(Follower::new(
        Registry::new(
            options.registry.clone(),
            runtime.engine.own_addresses().clone(),
        )?,
        options.plugin_refs.clone(),
        cache_dir.join("fetched"),
        runtime.plugins.clone(),
    )))
}
