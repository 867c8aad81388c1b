//! The real `wasmcron` binary as a child process, and a client for its API.
//!
//! The binary is `$WASMCRON_BIN`, else `target/debug/wasmcron` of this workspace
//! (`scripts/test.sh` builds it first). Plugins come from `$WASMCRON_TEST_PLUGINS`, else
//! `dist/plugins` (built by `scripts/build-plugins.sh`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The wasmcron binary under test.
pub fn binary() -> PathBuf {
    let path = std::env::var_os("WASMCRON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/debug/wasmcron"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo test --workspace` (it builds the binary first) or `cargo build -p wasmcron`, or set WASMCRON_BIN",
        path.display()
    );
    path
}

/// Directory of the built example and test plugins.
pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("WASMCRON_TEST_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("dist/plugins"));
    assert!(
        dir.join("hello.wasm").is_file(),
        "{} has no plugins: run scripts/build-plugins.sh first (or set WASMCRON_TEST_PLUGINS)",
        dir.display()
    );
    dir
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to start a replica.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub db: String,
    pub instance_id: String,
    pub plugins: PathBuf,
    pub port: u16,
    pub extra_args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The binary to run instead of [`binary()`].
    pub binary: Option<PathBuf>,
}

/// Debian's libfaketime (package `faketime`), preloaded to run a replica with a skewed clock.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

impl HostOptions {
    /// Extra command-line arguments (for example `--heartbeat-interval 1s`).
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Run the replica with its system clock shifted by `offset` (libfaketime syntax, e.g.
    /// `"+30s"`): every clock the process reads, wall and monotonic, is shifted. Panics when
    /// libfaketime is missing (`apt-get install faketime`; scripts/install-test-deps.sh does).
    pub fn clock_offset(mut self, offset: &str) -> Self {
        assert!(
            Path::new(LIBFAKETIME).is_file(),
            "{LIBFAKETIME} is missing: install Debian's faketime package (scripts/install-test-deps.sh)"
        );
        self.env.push(("LD_PRELOAD".into(), LIBFAKETIME.into()));
        self.env.push(("FAKETIME".into(), offset.into()));
        self
    }

    pub fn new(db: &str, instance_id: &str, plugins: &Path) -> Self {
        HostOptions {
            db: db.to_string(),
            instance_id: instance_id.to_string(),
            plugins: plugins.to_path_buf(),
            port: free_port(),
            extra_args: Vec::new(),
            env: Vec::new(),
            binary: None,
        }
    }
}

/// A running replica. Killed (SIGKILL) on drop if still running.
#[derive(Debug)]
pub struct Host {
    child: Option<Child>,
    pub options: HostOptions,
    pub base: String,
    dir: TempDir,
}

impl Host {
    /// Start a replica and wait until `/healthz` answers.
    pub async fn start(options: HostOptions) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let mut cmd = Command::new(options.binary.clone().unwrap_or_else(binary));
        cmd.arg("serve")
            .args(["--db", &options.db])
            .args(["--plugins", options.plugins.to_str().unwrap()])
            .args(["--cache-dir", dir.path().join("cache").to_str().unwrap()])
            .args(["--listen", &format!("127.0.0.1:{}", options.port)])
            .args(["--instance-id", &options.instance_id])
            .args(&options.extra_args)
            .env("WASMCRON_LOG", "info,wasmcron=debug")
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().expect("spawn wasmcron");
        let host = Host {
            child: Some(child),
            base: format!("http://127.0.0.1:{}", options.port),
            options,
            dir,
        };
        host.wait_for("healthz", Duration::from_secs(30), || async {
            matches!(host.status_of("/healthz").await, Some(200))
        })
        .await;
        host
    }

    /// Everything the replica logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Where the replica's log is written (inside a directory removed when the host drops).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// Resident set size of the running process in KiB (`VmRSS` of `/proc/<pid>/status`);
    /// `None` once it has exited or when the figure cannot be read.
    pub fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig} failed");
    }

    /// SIGTERM, then wait for the exit (up to `deadline`).
    pub fn stop(&mut self, deadline: Duration) -> ExitStatus {
        self.signal("-TERM");
        self.wait_exit(deadline)
    }

    /// Whether the process is still running (not yet stopped, killed or reaped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL (a crash), and reap.
    pub fn kill9(&mut self) {
        self.signal("-KILL");
        self.wait_exit(Duration::from_secs(10));
    }

    pub fn sigstop(&self) {
        self.signal("-STOP");
    }

    pub fn sigcont(&self) {
        self.signal("-CONT");
    }

    fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > deadline {
                let _ = child.kill();
                panic!(
                    "replica did not exit within {deadline:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Poll `cond` until it holds, or panic after `deadline` with the replica's log.
    pub async fn wait_for<F, Fut>(&self, what: &str, deadline: Duration, cond: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        poll_until(what, deadline, Duration::from_millis(50), cond, || {
            format!("replica log:\n{}", self.log())
        })
        .await;
    }

    pub async fn status_of(&self, path: &str) -> Option<u16> {
        reqwest::get(format!("{}{path}", self.base))
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// GET a JSON document (panics on transport errors; returns status and body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Send a JSON body.
    pub async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let client = reqwest::Client::new();
        let r = client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Every run of a job, oldest first (follows pagination).
    pub async fn runs(&self, job: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = format!("/api/v1/jobs/{job}/runs?limit=1000");
        loop {
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{page}");
            all.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => path = format!("/api/v1/jobs/{job}/runs?limit=1000&before={next}"),
                None => break,
            }
        }
        all.reverse();
        all
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Poll `cond` every `every` until it holds and return how long that took; after `deadline`
/// panic with `context()` (say, the replicas' logs).
pub async fn poll_until<F, Fut>(
    what: &str,
    deadline: Duration,
    every: Duration,
    mut cond: F,
    context: impl FnOnce() -> String,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        if start.elapsed() > deadline {
            panic!(
                "timed out after {deadline:?} waiting for {what}\n{}",
                context()
            );
        }
        tokio::time::sleep(every).await;
    }
    start.elapsed()
}

/// Several replicas sharing one database, with direct SQL access to check ownership and runs.
#[derive(Debug)]
pub struct Cluster {
    pub db: String,
    pub pool: sqlx::PgPool,
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
    /// A cluster on database `db` (already created, not yet migrated); no replica yet.
    pub async fn new(db: &str, args: &[&str]) -> Cluster {
        Cluster {
            db: db.to_string(),
            pool: sqlx::PgPool::connect(db)
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
        collector: &crate::collector::Collector,
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
        sqlx::query_as::<_, (Option<String>, i64)>(
            "SELECT owner, COUNT(*) FROM jobs GROUP BY owner",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(owner, n)| (owner.unwrap_or_default(), n))
        .collect()
    }

    /// `(job id, owner, epoch)` of every job, by id.
    pub async fn owners(&self) -> Vec<(String, Option<String>, i64)> {
        sqlx::query_as("SELECT id, owner, epoch FROM jobs ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// Every run, by job and tick.
    pub async fn runs(&self) -> Vec<RunRow> {
        sqlx::query_as(
            "SELECT job_id, scheduled_at_ms, status, reason, instance_id, catch_up, manual, \
             COALESCE(started_at_ms, finished_at_ms) AS recorded_at_ms FROM runs \
             ORDER BY job_id, scheduled_at_ms",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
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
