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
        "{} is missing: run `cargo build -p wasmcron` first (scripts/test.sh does), or set WASMCRON_BIN",
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
}

impl HostOptions {
    pub fn new(db: &str, instance_id: &str, plugins: &Path) -> Self {
        HostOptions {
            db: db.to_string(),
            instance_id: instance_id.to_string(),
            plugins: plugins.to_path_buf(),
            port: free_port(),
            extra_args: Vec::new(),
            env: Vec::new(),
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
        let mut cmd = Command::new(binary());
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
    pub async fn wait_for<F, Fut>(&self, what: &str, deadline: Duration, mut cond: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let start = Instant::now();
        while !cond().await {
            if start.elapsed() > deadline {
                panic!(
                    "timed out after {deadline:?} waiting for {what}; replica log:\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
