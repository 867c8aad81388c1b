//! Throwaway PostgreSQL servers for tests and benchmarks.
//!
//! [`PgServer::start`] creates a fresh cluster in a temporary directory and starts it.
//! PostgreSQL refuses to run as root, so as root every server command runs as the `postgres`
//! user (`runuser -u postgres --`) in a directory handed to that user; otherwise the binaries
//! run directly. The binaries are looked up in `$WASMCRON_PG_BIN`, else
//! `/usr/lib/postgresql/15/bin` (Debian's `postgresql-15`).
//!
//! How clients reach a server ([`Listen`]): the tests' servers listen on a Unix socket in the
//! server's own directory and on no TCP port at all, so no other process can take their
//! address, neither before they start nor while a test has stopped them; benchmarks measure
//! over TCP on loopback, as a deployment connects (a port taken before the server bound it
//! makes the start try again with another).
//!
//! A server is stopped (`pg_ctl -m immediate`) and its directory removed on drop. Because the
//! one [`shared`] server lives in a `static` (never dropped), every server also gets a small
//! watchdog process that does the same cleanup once the test process has exited, however it
//! exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tempfile::TempDir;

use crate::daemon::{ServerError, free_port, is_root, percent_encode};

/// Where Debian's `postgresql-15` package puts the server binaries.
pub const DEFAULT_PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Errors of the test-server harness.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server binaries are not installed.
    #[error(
        "PostgreSQL server binaries not found in {0} (install Debian's postgresql-15 package, \
         or point WASMCRON_PG_BIN at a directory holding initdb, pg_ctl and createdb)"
    )]
    Missing(PathBuf),
    /// A command could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("{command} failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed (stdout and stderr), plus the server log when relevant.
        output: String,
    },
    /// Local I/O (temporary directory, free port).
    #[error("test server setup: {0}")]
    Io(#[from] std::io::Error),
}

/// How clients reach a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// A Unix socket in the server's own temporary directory, no TCP port: nothing else can
    /// take the address, so the server may be stopped and resumed at will. For tests.
    UnixSocket,
    /// TCP on loopback, as a deployment connects: for benchmarks. The port is one the system
    /// handed out a moment before the start; when another process took it meanwhile, the start
    /// is tried again with another. [`PgServer::resume`] reuses the port, which another process
    /// may have taken while the server was stopped: stop only Unix socket servers.
    Tcp,
}

/// How to start a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Flush to disk on commit. Off for tests (fast, nothing to keep); on for benchmarks of
    /// durable throughput.
    pub fsync: bool,
    /// `max_connections` of the server.
    pub max_connections: u32,
    /// How clients reach it.
    pub listen: Listen,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            fsync: false,
            max_connections: 300,
            listen: Listen::UnixSocket,
        }
    }
}

/// The port of the Unix socket (it only names the socket file, `.s.PGSQL.5432`).
const SOCKET_PORT: u16 = 5432;

/// Starts of a TCP server tried before giving up on finding a free port.
const TCP_ATTEMPTS: usize = 5;

/// A running (or stopped) throwaway PostgreSQL cluster.
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres_user: bool,
    options: PgOptions,
    watchdog: Option<Child>,
}

impl PgServer {
    /// Creates and starts a test server with [`PgOptions::default`] (no fsync).
    pub fn start() -> Result<PgServer, PgError> {
        Self::start_with(PgOptions::default())
    }

    /// Creates and starts a server with explicit options.
    pub fn start_with(options: PgOptions) -> Result<PgServer, PgError> {
        let bin = std::env::var_os("WASMCRON_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PG_BIN));
        if !bin.join("initdb").is_file() || !bin.join("pg_ctl").is_file() {
            return Err(PgError::Missing(bin));
        }
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new().prefix("wasmcron-pg-").tempdir()?;
        if as_postgres_user {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()))?;
        }
        let port = match options.listen {
            Listen::UnixSocket => SOCKET_PORT,
            Listen::Tcp => free_port()?,
        };
        let mut server = PgServer {
            bin,
            dir,
            port,
            as_postgres_user,
            options,
            watchdog: None,
        };
        let data = server.data_dir();
        run(server.server_command("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]))?;
        server.watchdog = Some(server.spawn_watchdog()?);
        let mut attempt = 1;
        loop {
            let logged = server.log().len();
            match server.resume() {
                Ok(()) => return Ok(server),
                // Another process took the port between its choice and the server's bind.
                Err(_)
                    if server.options.listen == Listen::Tcp
                        && attempt < TCP_ATTEMPTS
                        && server
                            .log()
                            .get(logged..)
                            .is_some_and(|new| new.contains("Address already in use")) =>
                {
                    attempt += 1;
                    server.port = free_port()?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgresql://postgres@{}/{name}", self.address())
    }

    /// The directory of the server's Unix socket (it listens there whatever [`Listen`]
    /// says).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The port: a loopback TCP port, or the number that names the Unix socket's file.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's Unix socket (`.s.PGSQL.<port>` in [`PgServer::socket_dir`]).
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join(format!(".s.PGSQL.{}", self.port))
    }

    /// The host and port part of a URL: the socket's directory (percent-encoded) or loopback.
    fn address(&self) -> String {
        match self.options.listen {
            Listen::UnixSocket => percent_encode(&self.dir.path().to_string_lossy()),
            Listen::Tcp => format!("127.0.0.1:{}", self.port),
        }
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, PgError> {
        let host = match self.options.listen {
            Listen::UnixSocket => self.dir.path().as_os_str().to_owned(),
            Listen::Tcp => "127.0.0.1".into(),
        };
        run(Command::new(self.bin.join("createdb"))
            .arg("-h")
            .arg(host)
            .args(["-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(name))?;
        Ok(self.url(name))
    }

    /// Creates a database with a name unique within this process and returns its URL.
    pub fn fresh_database(&self) -> Result<String, PgError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("t{}_{n}", std::process::id()))
    }

    /// Stops the server (fast shutdown: connections are cut) and waits until it is down.
    pub fn stop(&self) -> Result<(), PgError> {
        run(self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"]))
        .map(drop)
    }

    /// (Re)starts the server at the same address and waits until it accepts connections.
    pub fn resume(&self) -> Result<(), PgError> {
        let settings = format!(
            "-k {socket} -p {port} -c listen_addresses={tcp} -c fsync={fsync} \
             -c max_connections={max}",
            socket = self.dir.path().display(),
            port = self.port,
            tcp = match self.options.listen {
                Listen::UnixSocket => "''",
                Listen::Tcp => "127.0.0.1",
            },
            fsync = if self.options.fsync { "on" } else { "off" },
            max = self.options.max_connections,
        );
        let result = run(self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "60", "-o", &settings, "start"]));
        result.map(drop).map_err(|e| self.with_log(e))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// A server binary, run as `postgres` when we are root.
    fn server_command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Starts a process that stops the server and removes its directory once this process
    /// has exited.
    fn spawn_watchdog(&self) -> Result<Child, PgError> {
        let stop = format!(
            "{runuser}'{pg_ctl}' -D '{data}' -m immediate stop",
            runuser = if self.as_postgres_user {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data_dir().display(),
        );
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             if [ -d '{data}' ]; then {stop}; fi >/dev/null 2>&1; rm -rf '{dir}'",
            parent = std::process::id(),
            data = self.data_dir().display(),
            dir = self.dir.path().display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| PgError::Spawn {
                command: "sh (server watchdog)".into(),
                source,
            })
    }

    fn with_log(&self, error: PgError) -> PgError {
        match error {
            PgError::Failed {
                command,
                status,
                output,
            } => PgError::Failed {
                command,
                status,
                output: format!("{output}\n--- server log ---\n{}", self.log()),
            },
            other => other,
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            let _ = self
                .server_command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        // The TempDir removes the directory after this.
    }
}

/// The one server shared by the tests of this process (each test makes its own database).
/// Panics with the harness error (for example missing binaries) if it cannot start.
pub fn shared() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| match PgServer::start() {
        Ok(server) => server,
        Err(e) => panic!("cannot start the test PostgreSQL server: {e}"),
    })
}

/// Runs `command` to completion; its output on success.
fn run(command: &mut Command) -> Result<String, PgError> {
    crate::daemon::run(command).map_err(|e| match e {
        ServerError::Spawn { command, source } => PgError::Spawn { command, source },
        ServerError::Failed {
            command,
            status,
            output,
        } => PgError::Failed {
            command,
            status,
            output,
        },
        other => PgError::Spawn {
            command: String::new(),
            source: std::io::Error::other(other.to_string()),
        },
    })
}
