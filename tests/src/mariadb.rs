//! Throwaway MariaDB servers for tests and the chaos run.
//!
//! [`MariaDbServer::start`] creates a data directory with `mariadb-install-db` in a temporary
//! directory and runs `mariadbd` in the foreground (a child of the test process, see
//! [`Daemon`]) with the grant tables skipped: any user connects without a password, as
//! `root` in the URLs here. As root, the server runs as the `mysql` user (`--user=mysql`),
//! which owns the directory. Debian's `mariadb-server` package (10.11) provides the
//! programs; `scripts/install-test-deps.sh` installs it.
//!
//! How clients reach a server is a [`Listen`], as for PostgreSQL: a Unix socket in the
//! server's own directory and no TCP port (the default: nothing can take its address, so it
//! may be stopped and resumed at will), or a loopback port (the start is tried again with
//! another when the port was taken before the server bound it).
//!
//! By default the grant tables are skipped; [`MariaDbOptions::grant_tables`] keeps them, for a
//! test of wrong credentials ([`MariaDbServer::create_user`] then makes a user with a
//! password).
//!
//! The server is killed and its directory removed on drop. Because the one [`shared`] server
//! lives in a `static` (never dropped), its watchdog also removes the directory once the test
//! process has exited.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tempfile::TempDir;

use crate::daemon::{
    Daemon, ServerError, chown, find_program, free_port, is_root, percent_encode, run, wait_ready,
};
use crate::pg::Listen;

/// How to install the programs, for the error when one is missing.
const INSTALL: &str = "install Debian's mariadb-server package: scripts/install-test-deps.sh";
/// Where Debian puts the programs (the server is in `/usr/sbin`, off a user's `$PATH`).
const DIRS: &[&str] = &["/usr/sbin", "/usr/bin"];
/// How long a start (or a resumption) may take before the server answers.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// Starts of a TCP server tried before giving up on finding a free port.
const TCP_ATTEMPTS: usize = 5;

/// How to start a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariaDbOptions {
    /// How clients reach it.
    pub listen: Listen,
    /// Check users and passwords (default: skip the grant tables, anyone connects).
    pub grant_tables: bool,
    /// Flush the log at every commit, as a deployment does (default: no flush, as `fsync=off`
    /// for the test PostgreSQL servers). For benchmarks.
    pub durable: bool,
}

impl Default for MariaDbOptions {
    fn default() -> Self {
        Self {
            listen: Listen::UnixSocket,
            grant_tables: false,
            durable: false,
        }
    }
}

/// A running (or stopped) throwaway MariaDB server.
#[derive(Debug)]
pub struct MariaDbServer {
    server: PathBuf,
    client: PathBuf,
    dir: TempDir,
    listen: Listen,
    grant_tables: bool,
    durable: bool,
    port: u16,
    as_root: bool,
    daemon: Option<Daemon>,
}

impl MariaDbServer {
    /// Creates and starts a server on a Unix socket.
    pub fn start() -> Result<MariaDbServer, ServerError> {
        Self::start_with(Listen::UnixSocket)
    }

    /// Creates and starts a server reached as `listen` says.
    pub fn start_with(listen: Listen) -> Result<MariaDbServer, ServerError> {
        Self::start_with_options(MariaDbOptions {
            listen,
            ..MariaDbOptions::default()
        })
    }

    /// Creates and starts a server with explicit options.
    pub fn start_with_options(options: MariaDbOptions) -> Result<MariaDbServer, ServerError> {
        let MariaDbOptions {
            listen,
            grant_tables,
            durable,
        } = options;
        let server = find_program("mariadbd", DIRS, INSTALL)?;
        let install = find_program("mariadb-install-db", DIRS, INSTALL)?;
        let client = find_program("mariadb", DIRS, INSTALL)?;
        let as_root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("wasmcron-mariadb-")
            .tempdir()?;
        let mut db = MariaDbServer {
            server,
            client,
            dir,
            listen,
            grant_tables,
            durable,
            port: 0,
            as_root,
            daemon: None,
        };
        // Each server its own temporary directory: servers started side by side
        // name their temporary tables alike, and one in the shared /tmp was seen
        // removed under another's bootstrap ("Unknown table 'mysql.tmp_user_sys'").
        std::fs::create_dir(db.tmp_dir())?;
        let mut command = Command::new(install);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", db.data_dir().display()))
            .arg(format!("--tmpdir={}", db.tmp_dir().display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if as_root {
            chown(db.dir.path(), "mysql")?;
            command.arg("--user=mysql");
        }
        run(&mut command)?;
        let mut attempt = 1;
        loop {
            if listen == Listen::Tcp {
                db.port = free_port()?;
            }
            let logged = db.log().len();
            match db.resume() {
                Ok(()) => return Ok(db),
                Err(_)
                    if listen == Listen::Tcp
                        && attempt < TCP_ATTEMPTS
                        && db
                            .log()
                            .get(logged..)
                            .is_some_and(|new| new.contains("Address already in use")) =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The server's Unix socket (it listens there whatever [`Listen`] says).
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("mariadb.sock")
    }

    /// URL of database `name` on this server (over its socket, or its loopback port).
    pub fn url(&self, name: &str) -> String {
        match self.listen {
            Listen::UnixSocket => format!(
                "mysql://root@localhost/{name}?socket={}&ssl-mode=disabled",
                percent_encode(&self.socket().to_string_lossy())
            ),
            Listen::Tcp => format!("mysql://root@127.0.0.1:{}/{name}", self.port),
        }
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ServerError> {
        self.sql(&format!("CREATE DATABASE `{name}`"))?;
        Ok(self.url(name))
    }

    /// Creates a database with a name unique within this process and returns its URL.
    pub fn fresh_database(&self) -> Result<String, ServerError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("t{}_{n}", std::process::id()))
    }

    /// Creates user `name` with `password`, allowed everything on every database (a server
    /// with [`MariaDbOptions::grant_tables`]); returns the URL of database `database` as that
    /// user, with `password` in it.
    pub fn create_user(
        &self,
        name: &str,
        password: &str,
        database: &str,
    ) -> Result<String, ServerError> {
        self.sql(&format!(
            "CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'; \
             CREATE USER '{name}'@'localhost' IDENTIFIED BY '{password}'; \
             GRANT ALL ON *.* TO '{name}'@'%'; GRANT ALL ON *.* TO '{name}'@'localhost'"
        ))?;
        Ok(self
            .url(database)
            .replacen("mysql://root@", &format!("mysql://{name}:{password}@"), 1))
    }

    /// Runs `statements` with the command-line client over the socket; what it printed.
    pub fn sql(&self, statements: &str) -> Result<String, ServerError> {
        run(Command::new(&self.client)
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.socket().display()))
            .args(["-u", "root", "--connect-timeout=2", "-N", "-e", statements]))
    }

    /// Stops the server (SIGTERM: connections are cut, the server shuts down) and waits for
    /// the exit.
    pub fn stop(&mut self) -> Result<(), ServerError> {
        match self.daemon.as_mut() {
            Some(daemon) => {
                let stopped = daemon.stop("-TERM", START_DEADLINE);
                self.daemon = None;
                stopped
            }
            None => Ok(()),
        }
    }

    /// (Re)starts the server at the same address and waits until it answers.
    pub fn resume(&mut self) -> Result<(), ServerError> {
        let mut command = Command::new(&self.server);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.data_dir().display()))
            .arg(format!("--tmpdir={}", self.tmp_dir().display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mariadb.pid").display()
            ))
            .args([
                "--skip-name-resolve",
                "--max-connections=300",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
            ]);
        if !self.durable {
            // Nothing to keep: no flush at each commit (as fsync=off for PostgreSQL).
            command.args([
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
            ]);
        }
        match self.listen {
            Listen::UnixSocket => command.arg("--skip-networking"),
            Listen::Tcp => command
                .arg(format!("--port={}", self.port))
                .arg("--bind-address=127.0.0.1"),
        };
        if !self.grant_tables {
            command.arg("--skip-grant-tables");
        }
        if self.as_root {
            command.arg("--user=mysql");
        }
        let mut daemon = Daemon::spawn_in("mariadbd", command, &self.log_file(), self.dir.path())?;
        let ready = wait_ready(
            &mut daemon,
            START_DEADLINE,
            || self.log(),
            || self.sql("SELECT 1").is_ok(),
        );
        self.daemon = Some(daemon);
        ready
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }
}

/// The one server shared by the tests of this process (each test makes its own database).
/// Panics with the harness error (for example a missing program) if it cannot start.
pub fn shared() -> &'static MariaDbServer {
    static SERVER: OnceLock<MariaDbServer> = OnceLock::new();
    SERVER.get_or_init(|| match MariaDbServer::start() {
        Ok(server) => server,
        Err(e) => panic!("cannot start the test MariaDB server: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn a_server_starts_answers_over_its_socket_and_tcp_and_resumes_after_a_stop() {
        let mut server = MariaDbServer::start().unwrap();
        let url = server.create_database("answers").unwrap();
        let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
        let (version, db): (String, String) = sqlx::query_as("SELECT VERSION(), DATABASE()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(version.contains("MariaDB"), "{version}");
        assert_eq!(db, "answers");
        // What the host relies on: named locks and SKIP LOCKED.
        let locked: i64 = sqlx::query_scalar("SELECT GET_LOCK('wasmcron-test', 0)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(locked, 1);
        sqlx::query("CREATE TABLE t (id INT PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("SELECT id FROM t FOR UPDATE SKIP LOCKED")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();

        server.stop().unwrap();
        assert!(sqlx::MySqlConnection::connect(&url).await.is_err());
        server.resume().unwrap();
        let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);

        let tcp = MariaDbServer::start_with(Listen::Tcp).unwrap();
        let url = tcp.create_database("over_tcp").unwrap();
        assert!(url.starts_with("mysql://root@127.0.0.1:"), "{url}");
        let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
        sqlx::query("SELECT 1").execute(&mut conn).await.unwrap();
    }
}
