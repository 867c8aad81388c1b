//! The real `wasmcron` binary as a child process: started on a port of its own choosing,
//! stopped, killed, paused; its log; and (in `api`) a client for its HTTP API.
//!
//! A replica listens on `127.0.0.1:0`: the system picks a free port when the replica binds,
//! and the replica logs the address it bound ("wasmcron replica serving ... listen=ADDR"),
//! which [`Host::start`] reads back ([`log::serving_address`]). No port is chosen before the
//! process binds it, so none can be taken in between.

mod api;
pub mod log;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::built::binary;
use crate::wait::poll_until;

/// How long a replica may take to bind its address and to answer `/healthz`.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// How to start a replica.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// `--db`.
    pub db: String,
    /// `--instance-id`.
    pub instance_id: String,
    /// `--plugins`.
    pub plugins: PathBuf,
    /// `--listen` (default `127.0.0.1:0`: loopback, a port the system picks).
    pub listen: String,
    /// More command-line arguments (for example `--heartbeat-interval 1s`).
    pub extra_args: Vec<String>,
    /// More environment variables.
    pub env: Vec<(String, String)>,
    /// The binary to run instead of [`binary()`].
    pub binary: Option<PathBuf>,
    /// The working directory (default: the test's), against which relative paths in the
    /// arguments resolve.
    pub cwd: Option<PathBuf>,
}

/// Debian's libfaketime (package `faketime`), preloaded to run a replica with a skewed clock.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

impl HostOptions {
    /// Replica `instance_id` on database `db` with the plugins of `plugins`.
    pub fn new(db: &str, instance_id: &str, plugins: &Path) -> Self {
        HostOptions {
            db: db.to_string(),
            instance_id: instance_id.to_string(),
            plugins: plugins.to_path_buf(),
            listen: "127.0.0.1:0".into(),
            extra_args: Vec::new(),
            env: Vec::new(),
            binary: None,
            cwd: None,
        }
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
}

/// A running replica. Killed (SIGKILL) on drop if still running.
#[derive(Debug)]
pub struct Host {
    child: Option<Child>,
    /// How it was started.
    pub options: HostOptions,
    /// `http://ADDR` of its API.
    pub base: String,
    dir: TempDir,
}

impl Host {
    /// The `wasmcron serve` command for `options`, logging into `dir/log`.
    fn command(options: &HostOptions, dir: &Path) -> Command {
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let mut cmd = Command::new(options.binary.clone().unwrap_or_else(binary));
        cmd.arg("serve")
            .args(["--db", &options.db])
            .args(["--plugins", options.plugins.to_str().unwrap()])
            .args(["--cache-dir", dir.join("cache").to_str().unwrap()])
            .args(["--listen", &options.listen])
            .args(["--instance-id", &options.instance_id])
            .args(&options.extra_args)
            .env("WASMCRON_LOG", "info,wasmcron=debug")
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(cwd) = &options.cwd {
            cmd.current_dir(cwd);
        }
        cmd
    }

    /// Start a replica and wait until `/healthz` answers.
    pub async fn start(options: HostOptions) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let child = Self::command(&options, dir.path())
            .spawn()
            .expect("spawn wasmcron");
        let mut host = Host {
            child: Some(child),
            base: String::new(),
            options,
            dir,
        };
        let mut address = host.bound_address().await;
        if address.ip().is_unspecified() {
            // Listening on every interface: the tests talk to it on loopback.
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        host.base = format!("http://{address}");
        host.wait_for("healthz", START_DEADLINE, || async {
            matches!(host.status_of("/healthz").await, Some(200))
        })
        .await;
        host
    }

    /// Start a replica that must refuse to start: it exits with a failure status within the
    /// start deadline, before serving. Returns its log (panics when it serves instead).
    pub async fn start_refused(options: HostOptions) -> String {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Self::command(&options, dir.path())
            .spawn()
            .expect("spawn wasmcron");
        let log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(!status.success(), "the replica exited 0; log:\n{}", log());
                return log();
            }
            if start.elapsed() > START_DEADLINE || log::serving_address(&log()).is_some() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the replica started instead of refusing; log:\n{}", log());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The address the replica bound, from its log; panics with the log when it exits first
    /// or does not bind within [`START_DEADLINE`].
    async fn bound_address(&mut self) -> SocketAddr {
        let start = Instant::now();
        loop {
            if let Some(address) = log::serving_address(&self.log()) {
                return address;
            }
            let child = self.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                panic!(
                    "replica exited ({status}) before serving; log:\n{}",
                    self.log()
                );
            }
            assert!(
                start.elapsed() < START_DEADLINE,
                "replica did not bind its address within {START_DEADLINE:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything the replica logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The process id (panics once the process has exited).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Where the replica's log is written (inside a directory removed when the host drops).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log")
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

    /// SIGSTOP: the process freezes, its connections stay open.
    pub fn sigstop(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`Host::sigstop`].
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
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Resident set size of process `pid` in KiB (`VmRSS` of `/proc/<pid>/status`); `None` once
/// it has exited or when the figure cannot be read.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
