//! Several replicas of the real binary sharing one database (PostgreSQL or MariaDB, see
//! [`Engine`]), with direct SQL access to check ownership and runs.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::built::plugins_dir;
use crate::collector::Collector;
pub use crate::db::{Engine, Pool};
use crate::host::{Host, HostOptions};
use crate::wait::poll_until;

/// Several replicas sharing one database, with direct SQL access to check ownership and runs.
#[derive(Debug)]
pub struct Cluster {
    pub db: String,
    pub pool: Pool,
    pub plugins: PathBuf,
    /// Arguments given to every replica (e.g. shorter heartbeat and dead thresholds).
    pub args: Vec<String>,
    /// The binary every replica runs (default: [`binary()`]).
    pub binary: Option<PathBuf>,
    pub hosts: Vec<Host>,
}

/// A run as the database has it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRow {
    pub job_id: String,
    pub scheduled_at_ms: i64,
    /// Which attempt of the tick (from 1; a retry of a failed one is the next).
    pub attempt: i64,
    pub status: String,
    pub reason: Option<String>,
    pub instance_id: Option<String>,
    pub catch_up: bool,
    /// A manual trigger's tick (`POST /jobs/{id}/trigger`).
    pub manual: bool,
    /// When the row was written (database clock): a run's start, else its record.
    pub recorded_at_ms: Option<i64>,
}

impl Cluster {
    /// A cluster on a fresh database of `engine`; no replica yet.
    /// Every replica gets the engine's own arguments too (the pool mode behind PgBouncer);
    /// the cluster's reads go straight to the server.
    pub async fn on(engine: Engine, args: &[&str]) -> Cluster {
        let db = engine.fresh_database();
        let mut args: Vec<&str> = args.to_vec();
        args.extend_from_slice(engine.replica_args());
        let mut cluster = Cluster::new(&db.direct, &args).await;
        cluster.db = db.url;
        cluster
    }

    /// A cluster on database `db` (already created, not yet migrated); no replica yet.
    pub async fn new(db: &str, args: &[&str]) -> Cluster {
        Cluster {
            db: db.to_string(),
            pool: Pool::connect(db)
                .await
                .expect("connect to the test database"),
            plugins: plugins_dir(),
            args: args.iter().map(|a| a.to_string()).collect(),
            binary: None,
            hosts: Vec::new(),
        }
    }

    /// Options for replica `id` with the cluster's arguments (and binary, if set).
    pub fn options(&self, id: &str) -> HostOptions {
        let mut options = HostOptions::new(&self.db, id, &self.plugins);
        options.extra_args = self.args.clone();
        options.binary = self.binary.clone();
        options
    }

    /// Start a replica with `options` and wait until it is ready; returns its index.
    pub async fn start_with(&mut self, options: HostOptions) -> usize {
        let host = Host::start(options).await;
        host.wait_for("ready", Duration::from_secs(30), || async {
            host.status_of("/readyz").await == Some(200)
        })
        .await;
        self.hosts.push(host);
        self.hosts.len() - 1
    }

    /// Start replica `id` with the cluster's arguments; returns its index.
    pub async fn start(&mut self, id: &str) -> usize {
        let options = self.options(id);
        self.start_with(options).await
    }

    /// The replica named `id` (the latest started with that id).
    pub fn host(&self, id: &str) -> &Host {
        self.hosts
            .iter()
            .rev()
            .find(|h| h.options.instance_id == id)
            .unwrap_or_else(|| panic!("no replica {id}"))
    }

    /// The replica named `id`, mutably.
    pub fn host_mut(&mut self, id: &str) -> &mut Host {
        self.hosts
            .iter_mut()
            .rev()
            .find(|h| h.options.instance_id == id)
            .unwrap_or_else(|| panic!("no replica {id}"))
    }

    /// Create `n` reporter jobs named `{prefix}-{i}` through `via` (16 requests at a time);
    /// `extra` fields are merged into each body. Returns the job ids.
    pub async fn create_reporter_jobs(
        &self,
        via: &str,
        n: usize,
        prefix: &str,
        collector: &Collector,
        extra: Value,
    ) -> Vec<String> {
        let base = self.host(via).base.clone();
        let client = reqwest::Client::new();
        let mut ids = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for &i in chunk {
                let mut body = serde_json::json!({
                    "name": format!("{prefix}-{i:04}"),
                    "schedule": "@every 1s",
                    "plugin": "reporter",
                    "input": {"collector": collector.url()},
                    "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
                });
                if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
                    body.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                let request = client
                    .post(format!("{base}/api/v1/jobs"))
                    .json(&body)
                    .send();
                set.spawn(async move {
                    let r = request.await.expect("POST /api/v1/jobs");
                    let status = r.status().as_u16();
                    let job: Value = r.json().await.unwrap_or(Value::Null);
                    assert_eq!(status, 201, "{job}");
                    job["id"].as_str().unwrap().to_string()
                });
            }
            while let Some(id) = set.join_next().await {
                ids.push(id.unwrap());
            }
        }
        ids
    }

    /// How many jobs each owner holds (`""` for no owner).
    pub async fn owner_counts(&self) -> std::collections::BTreeMap<String, i64> {
        self.pool.owner_counts().await.unwrap()
    }

    /// `(job id, owner, epoch)` of every job, by id.
    pub async fn owners(&self) -> Vec<(String, Option<String>, i64)> {
        self.pool.owners().await.unwrap()
    }

    /// Every run, by job and tick.
    pub async fn runs(&self) -> Vec<RunRow> {
        self.pool.runs().await.unwrap()
    }

    /// The holder and epoch of the lease `housekeeping`.
    pub async fn housekeeping_lease(&self) -> Option<(String, i64)> {
        self.pool.housekeeping_lease().await.unwrap()
    }

    /// Poll `cond` until it holds, or panic after `deadline` with the tail of every
    /// replica's log.
    pub async fn wait_for<F, Fut>(&self, what: &str, deadline: Duration, cond: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        poll_until(what, deadline, Duration::from_millis(100), cond, || {
            self.logs_tail(60)
        })
        .await;
    }

    /// The last `lines` lines of every replica's log.
    pub fn logs_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for host in &self.hosts {
            let log = host.log();
            let tail: Vec<&str> = log.lines().rev().take(lines).collect();
            out += &format!("--- {} ---\n", host.options.instance_id);
            for line in tail.into_iter().rev() {
                out += line;
                out.push('\n');
            }
        }
        out
    }
}
