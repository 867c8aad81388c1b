//! `wasmcron serve` and `wasmcron migrate`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::plugin_registry::RegistryArgs;
use crate::registry::{Credentials, RegistryOptions, parse_plugin_refs};
use crate::replica::{Replica, ReplicaOptions};
use crate::runtime::Compiler;
use crate::store::{ConnectOptions, PoolMode};

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration such as 2s or 1m30s: {e}"))
}

/// A period of recurring work: at least a second.
fn parse_period(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!("{s:?} is too short: at least 1s"));
    }
    Ok(d)
}

/// Database selection, shared by `serve` and `migrate`.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// Database URL: `sqlite://FILE` (embedded default) or `postgres://…` (multi-replica).
    #[arg(long, env = "WASMCRON_DB", default_value = "sqlite://wasmcron.db")]
    pub db: String,
    /// How the server at `--db` pools connections: `session` (a direct connection, or a
    /// pooler in session mode) or `transaction` (PgBouncer, Supavisor or RDS Proxy in
    /// transaction mode: no prepared statements, no session state).
    #[arg(long, env = "WASMCRON_DB_POOL_MODE", default_value = "session")]
    pub db_pool_mode: PoolMode,
    /// A direct connection to the same database beside a transaction pooler: it carries the
    /// session lock that tells peers within a second that this replica crashed, change
    /// notifications, and migrations. Without it, crash detection waits for `--dead-after`
    /// and changes are polled.
    #[arg(long, env = "WASMCRON_DB_SESSION_URL")]
    pub db_session_url: Option<String>,
    /// Connections the replica keeps to the database at most (default 12 for PostgreSQL and
    /// MySQL/MariaDB, 1 for SQLite: one connection queues its writers in order, where several
    /// would wait for SQLite's file lock by polling it, and the last comers can wait past the
    /// lock timeout while others keep writing).
    #[arg(long, env = "WASMCRON_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: Option<u32>,
}

impl DbArgs {
    /// The store's connect options for these arguments.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            pool_mode: self.db_pool_mode,
            session_url: self.db_session_url.clone(),
            max_connections: self.db_max_connections,
            ..ConnectOptions::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Directory of plugins: every `*.wasm` component in it is a plugin named by its file stem.
    #[arg(long, env = "WASMCRON_PLUGINS", default_value = "plugins")]
    pub plugins: PathBuf,
    /// Directory of secrets (e.g. a mounted Kubernetes Secret): a job's `secrets` field maps a
    /// config key to a file name in it, read at each run.
    #[arg(long, env = "WASMCRON_SECRETS_DIR")]
    pub secrets_dir: Option<PathBuf>,
    /// Directory for compiled plugin artifacts (must be writable; never the plugins directory).
    #[arg(long, env = "WASMCRON_CACHE_DIR", default_value = ".wasmcron-cache")]
    pub cache_dir: PathBuf,
    /// Address of the HTTP API.
    #[arg(long, env = "WASMCRON_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// This replica's id (default: $POD_NAME, then the host name).
    #[arg(long, env = "WASMCRON_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// Address peers and clients can reach this replica at (default: $POD_IP, then the listen address).
    #[arg(long, env = "WASMCRON_ADVERTISE")]
    pub advertise: Option<String>,
    /// How often this replica heartbeats.
    #[arg(long, env = "WASMCRON_HEARTBEAT_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,
    /// A replica without a heartbeat for this long is dead; its jobs move.
    #[arg(long, env = "WASMCRON_DEAD_AFTER", default_value = "10s", value_parser = parse_duration)]
    pub dead_after: Duration,
    /// On shutdown, how long runs in flight may take to finish.
    #[arg(long, env = "WASMCRON_GRACE_PERIOD", default_value = "30s", value_parser = parse_duration)]
    pub grace_period: Duration,
    /// How often the housekeeping leader deletes run history past `runs.retention` and the
    /// per-job limits (`runs.keep_succeeded`, `runs.keep_failed`), old events and alert
    /// deliveries, expired manual triggers and long-gone instance rows.
    #[arg(long, env = "WASMCRON_HOUSEKEEPING_INTERVAL", default_value = "60s", value_parser = parse_period)]
    pub housekeeping_interval: Duration,
    /// Longest time a setting may be stale (the settings cache refreshes at least this often).
    #[arg(long, env = "WASMCRON_SETTINGS_TTL", default_value = "30s", value_parser = parse_duration)]
    pub settings_ttl: Duration,
    /// Log format.
    #[arg(long, env = "WASMCRON_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// A JSON file of jobs to create at start when no job of that name exists yet.
    #[arg(long, env = "WASMCRON_JOBS_FILE")]
    pub jobs_file: Option<PathBuf>,
    /// Use on-demand instance allocation instead of the pooling allocator.
    #[arg(long, env = "WASMCRON_NO_POOLING")]
    pub no_pooling: bool,
    /// Serve the component at an OCI reference as plugin NAME: `NAME=REGISTRY/REPO:TAG` or
    /// `NAME=REGISTRY/REPO@sha256:DIGEST` (repeatable; the environment variable takes a
    /// comma-separated list).
    #[arg(
        long = "plugin-ref",
        env = "WASMCRON_PLUGIN_REFS",
        value_delimiter = ','
    )]
    pub plugin_refs: Vec<String>,
    /// How often a plugin reference by tag is re-resolved (a new version is hot-swapped).
    #[arg(long, env = "WASMCRON_PLUGIN_REF_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub plugin_ref_interval: Duration,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Compile new plugins inside the replica instead of in a child process (which returns
    /// the compiler's memory to the system when it exits).
    #[arg(long, env = "WASMCRON_COMPILE_IN_PROCESS")]
    pub compile_in_process: bool,
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WASMCRON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn instance_id(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("POD_NAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| format!("wasmcron-{}", std::process::id()))
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(&args.log_format);
    let plugin_refs = parse_plugin_refs(&args.plugin_refs)?;
    let credentials = match &args.registry.registry_auth {
        Some(path) => Credentials::from_file(path)?,
        None => Credentials::none(),
    };
    let compiler = if args.compile_in_process {
        Compiler::InProcess
    } else {
        let program = std::env::current_exe().context("cannot find this program's path")?;
        Compiler::Subprocess {
            program,
            args: vec!["plugin".to_string(), "compile".to_string()],
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("wasmcron")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let instance_id = instance_id(args.instance_id);
        let advertise = args
            .advertise
            .or_else(|| {
                std::env::var("POD_IP")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .map(|ip| format!("{ip}:{}", args.listen.port()))
            })
            .unwrap_or_else(|| args.listen.to_string());
        // With `--listen` on port 0 this default has port 0 too: `Replica::start` gives it the
        // port actually bound.
        let options = ReplicaOptions {
            db_connect: args.db.connect_options(),
            db_url: args.db.db,
            plugins_dir: args.plugins,
            secrets_dir: args.secrets_dir,
            cache_dir: Some(args.cache_dir),
            listen: args.listen,
            instance_id,
            advertise,
            heartbeat_interval: args.heartbeat_interval,
            dead_after: args.dead_after,
            grace_period: args.grace_period,
            settings_ttl: args.settings_ttl,
            housekeeping_interval: args.housekeeping_interval,
            jobs_file: args.jobs_file,
            pooling: !args.no_pooling,
            api_token: std::env::var("WASMCRON_API_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            compiler,
            plugin_refs,
            plugin_ref_interval: args.plugin_ref_interval,
            registry: RegistryOptions {
                credentials,
                insecure: args.registry.insecure_registries,
            },
        };
        let replica = Arc::new(Replica::start(options).await?);
        replica.serve_until(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn migrate(args: DbArgs) -> anyhow::Result<ExitCode> {
    init_logging("text");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        crate::replica::open_store(&args.db, args.connect_options()).await?;
        println!(
            "database at {} is up to date",
            crate::store::redact_url(&args.db)
        );
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}
