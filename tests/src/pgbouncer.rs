//! A throwaway PgBouncer in transaction pooling mode in front of a test PostgreSQL server, as
//! a deployment behind a transaction-mode pooler (PgBouncer, Supavisor, RDS Proxy) sees it.
//!
//! [`PgBouncer::start`] writes a configuration into a temporary directory and runs
//! `pgbouncer` in the foreground (a child of the test process, see [`Daemon`]), listening on a
//! Unix socket in that directory only and reaching the server over the server's own socket.
//! `pool_mode = transaction`; `ignore_startup_parameters = extra_float_digits,options`, as
//! PgBouncer's documentation advises for drivers that send them (sqlx does); authentication
//! is `trust`. While the server is down a client waits at most 5 s for it
//! (`query_wait_timeout = 5`, not 120), and logins resume a second after it is back
//! (`server_login_retry = 1`, not 15), as a deployment tuned for fast failover would set them.
//! PgBouncer refuses to run as root: as root it runs as the `postgres` user, which owns the
//! directory. Debian's `pgbouncer` package (1.18) provides the program;
//! `scripts/install-test-deps.sh` installs it.
//!
//! The process is killed and its directory removed on drop.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::daemon::{
    Daemon, ServerError, chown, find_program, is_root, percent_encode, user_ids, wait_ready,
};
use crate::pg::PgServer;

/// The port that names PgBouncer's socket file (`.s.PGSQL.6432`); no TCP port is opened.
pub const PORT: u16 = 6432;
/// Server connections per database and user (the replicas' connections share them).
const POOL_SIZE: u32 = 40;
const INSTALL: &str = "install Debian's pgbouncer package: scripts/install-test-deps.sh";
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A running (or stopped) PgBouncer in transaction mode.
#[derive(Debug)]
pub struct PgBouncer {
    program: PathBuf,
    dir: TempDir,
    /// The `postgres` user's ids when we are root.
    run_as: Option<(u32, u32)>,
    daemon: Option<Daemon>,
}

impl PgBouncer {
    /// Starts a pooler in front of every database of `server`.
    pub fn start(server: &PgServer) -> Result<PgBouncer, ServerError> {
        let program = find_program("pgbouncer", &["/usr/sbin", "/usr/bin"], INSTALL)?;
        let dir = tempfile::Builder::new()
            .prefix("wasmcron-pgbouncer-")
            .tempdir()?;
        let d = dir.path().display();
        let config = format!(
            "[databases]\n\
             * = host={server_dir} port={server_port}\n\
             [pgbouncer]\n\
             listen_addr =\n\
             listen_port = {PORT}\n\
             unix_socket_dir = {d}\n\
             pidfile = {d}/pgbouncer.pid\n\
             auth_type = trust\n\
             auth_file = {d}/users.txt\n\
             admin_users = postgres\n\
             pool_mode = transaction\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             max_client_conn = 500\n\
             server_login_retry = 1\n\
             query_wait_timeout = 5\n\
             default_pool_size = {POOL_SIZE}\n",
            server_dir = server.socket_dir().display(),
            server_port = server.port(),
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), config)?;
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n")?;
        let run_as = if is_root() {
            chown(dir.path(), "postgres")?;
            Some(user_ids("postgres")?)
        } else {
            None
        };
        let mut bouncer = PgBouncer {
            program,
            dir,
            run_as,
            daemon: None,
        };
        bouncer.resume()?;
        Ok(bouncer)
    }

    /// The pooler's Unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join(format!(".s.PGSQL.{PORT}"))
    }

    /// URL of database `name` through the pooler.
    pub fn url(&self, name: &str) -> String {
        let dir = percent_encode(&self.dir.path().to_string_lossy());
        format!("postgresql://postgres@{dir}:{PORT}/{name}")
    }

    /// Stops the pooler (SIGTERM: every connection is cut at once) and waits for the exit.
    pub fn stop(&mut self) -> Result<(), ServerError> {
        match self.daemon.take() {
            Some(mut daemon) => daemon.stop("-TERM", START_DEADLINE),
            None => Ok(()),
        }
    }

    /// (Re)starts the pooler and waits until its socket accepts connections.
    pub fn resume(&mut self) -> Result<(), ServerError> {
        let _ = std::fs::remove_file(self.socket());
        let mut command = Command::new(&self.program);
        command.arg(self.dir.path().join("pgbouncer.ini"));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        let log = self.dir.path().join("pgbouncer.log");
        let mut daemon = Daemon::spawn_in("pgbouncer", command, &log, self.dir.path())?;
        let socket = self.socket();
        let ready = wait_ready(
            &mut daemon,
            START_DEADLINE,
            || self.log(),
            || std::os::unix::net::UnixStream::connect(&socket).is_ok(),
        );
        self.daemon = Some(daemon);
        ready
    }

    /// The pooler's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

/// The one pooler shared by the tests of this process, in front of [`crate::pg::shared`]
/// (each test makes its own database). Panics with the harness error (for example a missing
/// program) if it cannot start.
pub fn shared() -> &'static PgBouncer {
    static BOUNCER: OnceLock<PgBouncer> = OnceLock::new();
    BOUNCER.get_or_init(|| match PgBouncer::start(crate::pg::shared()) {
        Ok(bouncer) => bouncer,
        Err(e) => panic!("cannot start the test PgBouncer: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Row};

    use super::*;

    #[tokio::test]
    async fn a_query_passes_through_the_pooler_in_transaction_mode() {
        let server = PgServer::start().unwrap();
        server.create_database("pooled").unwrap();
        let bouncer = PgBouncer::start(&server).unwrap();

        // Simple-protocol queries (no named prepared statements: transaction pooling gives a
        // client a server connection per transaction only).
        let mut conn = sqlx::PgConnection::connect(&bouncer.url("pooled"))
            .await
            .unwrap();
        let row = sqlx::raw_sql("SELECT current_database(), 6 * 7")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>(0), "pooled");
        assert_eq!(row.get::<i32, _>(1), 42);
        conn.close().await.unwrap();

        // The pooler's own console says it pools by transaction.
        let mut admin = sqlx::PgConnection::connect(&bouncer.url("pgbouncer"))
            .await
            .unwrap();
        let config = sqlx::raw_sql("SHOW CONFIG")
            .fetch_all(&mut admin)
            .await
            .unwrap();
        let mode: Vec<String> = config
            .iter()
            .filter(|r| r.get::<String, _>(0) == "pool_mode")
            .map(|r| r.get::<String, _>(1))
            .collect();
        assert_eq!(mode, ["transaction"], "log:\n{}", bouncer.log());
    }
}
