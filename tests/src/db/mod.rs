//! The database of a multi-replica run, chosen by name ([`Engine`]): PostgreSQL, MariaDB, or
//! PostgreSQL behind PgBouncer in transaction mode.
//!
//! [`TestDb::start`] starts the servers and creates the database. Replicas reach it through
//! a TCP address of the caller's (a [`Proxy`](crate::proxy::Proxy) per replica, forwarding to
//! [`TestDb::upstream`]): [`TestDb::replica_url`] is the URL for such an address and
//! [`Engine::replica_args`] what else a replica needs. Every server listens on a Unix socket
//! only, so stopping and resuming one ([`TestDb::stop`], [`TestDb::resume`]) can lose no
//! address to another process. The run's own reads go straight to the database server
//! ([`TestDb::direct_url`], [`Pool`]), past proxies and pooler.
//!
//! - [`pool`]: the run's reads (the database clock, owners, runs, a job's row) on either
//!   dialect.
//! - [`probe`]: whether the binary under test speaks the engine at all, asked of the binary
//!   itself before a run.

mod pool;
mod probe;

use std::net::SocketAddr;

pub use pool::{JobRow, Pool};
pub use probe::probe;

use crate::daemon::ServerError;
use crate::mariadb::MariaDbServer;
use crate::pg::{PgError, PgServer};
use crate::pgbouncer::PgBouncer;
use crate::proxy::Upstream;

/// Which database the replicas use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL, connected to directly.
    Postgres,
    /// MariaDB (the host's `mysql://` engine).
    MariaDb,
    /// PostgreSQL behind PgBouncer in transaction pooling mode.
    PgBouncer,
}

impl Engine {
    /// Every engine, by its name on the command line.
    pub const ALL: [(&'static str, Engine); 3] = [
        ("postgres", Engine::Postgres),
        ("mariadb", Engine::MariaDb),
        ("pgbouncer", Engine::PgBouncer),
    ];

    /// The engine's name on the command line.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, e)| *e == self).unwrap().0
    }

    /// Arguments every replica needs on this engine.
    pub fn replica_args(self) -> &'static [&'static str] {
        match self {
            Engine::Postgres | Engine::MariaDb => &[],
            Engine::PgBouncer => &["--db-pool-mode", "transaction"],
        }
    }

    /// What a database restart restarts, for messages.
    pub fn server_name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MariaDb => "MariaDB",
            Engine::PgBouncer => "PostgreSQL (behind PgBouncer)",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Engine, String> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, e)| *e)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown database {s:?} (known: {})", names.join(", "))
            })
    }
}

/// A fresh database on a shared server of an engine: the URL replicas use, and the URL of
/// the database on its server (past any pooler).
#[derive(Debug, Clone)]
pub struct FreshDb {
    pub url: String,
    pub direct: String,
}

impl Engine {
    /// A fresh database on this test process's shared server of the engine (for PgBouncer,
    /// the shared pooler in front of the shared PostgreSQL server).
    pub fn fresh_database(self) -> FreshDb {
        match self {
            Engine::Postgres => {
                let url = crate::pg::shared()
                    .fresh_database()
                    .expect("a PostgreSQL database");
                FreshDb {
                    direct: url.clone(),
                    url,
                }
            }
            Engine::MariaDb => {
                let url = crate::mariadb::shared()
                    .fresh_database()
                    .expect("a MariaDB database");
                FreshDb {
                    direct: url.clone(),
                    url,
                }
            }
            Engine::PgBouncer => {
                let direct = crate::pg::shared()
                    .fresh_database()
                    .expect("a PostgreSQL database");
                let name = direct.rsplit('/').next().unwrap().to_string();
                FreshDb {
                    url: crate::pgbouncer::shared().url(&name),
                    direct,
                }
            }
        }
    }
}

/// Errors of starting or restarting a run's database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The PostgreSQL server.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] PgError),
    /// The MariaDB server or PgBouncer.
    #[error(transparent)]
    Server(#[from] ServerError),
}

/// The servers of a run's database.
#[derive(Debug)]
enum Servers {
    Postgres(PgServer),
    MariaDb(MariaDbServer),
    PgBouncer {
        server: PgServer,
        bouncer: PgBouncer,
    },
}

/// A run's database: its servers, started, and the database `name` on them.
#[derive(Debug)]
pub struct TestDb {
    engine: Engine,
    name: String,
    servers: Servers,
}

impl TestDb {
    /// Starts the servers of `engine` and creates database `name`.
    pub fn start(engine: Engine, name: &str) -> Result<TestDb, DbError> {
        let servers = match engine {
            Engine::Postgres => {
                let server = PgServer::start()?;
                server.create_database(name)?;
                Servers::Postgres(server)
            }
            Engine::MariaDb => {
                let server = MariaDbServer::start()?;
                server.create_database(name)?;
                Servers::MariaDb(server)
            }
            Engine::PgBouncer => {
                let server = PgServer::start()?;
                server.create_database(name)?;
                let bouncer = PgBouncer::start(&server)?;
                Servers::PgBouncer { server, bouncer }
            }
        };
        Ok(TestDb {
            engine,
            name: name.to_string(),
            servers,
        })
    }

    /// Which engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Where a replica's proxy forwards: the server's socket, or the pooler's.
    pub fn upstream(&self) -> Upstream {
        Upstream::Unix(match &self.servers {
            Servers::Postgres(server) => server.socket(),
            Servers::MariaDb(server) => server.socket(),
            Servers::PgBouncer { bouncer, .. } => bouncer.socket(),
        })
    }

    /// The URL of the database for a replica that reaches it at `addr` (its proxy).
    pub fn replica_url(&self, addr: SocketAddr) -> String {
        match self.engine {
            Engine::Postgres | Engine::PgBouncer => {
                format!("postgresql://postgres@{addr}/{}", self.name)
            }
            Engine::MariaDb => format!("mysql://root@{addr}/{}", self.name),
        }
    }

    /// The URL of the database on its server, past any pooler (for the run's own reads).
    pub fn direct_url(&self) -> String {
        match &self.servers {
            Servers::Postgres(server) | Servers::PgBouncer { server, .. } => server.url(&self.name),
            Servers::MariaDb(server) => server.url(&self.name),
        }
    }

    /// Stops the database server (for PgBouncer, the PostgreSQL server behind it), cutting
    /// every connection, and waits until it is down.
    pub fn stop(&mut self) -> Result<(), DbError> {
        match &mut self.servers {
            Servers::Postgres(server) | Servers::PgBouncer { server, .. } => server.stop()?,
            Servers::MariaDb(server) => server.stop()?,
        }
        Ok(())
    }

    /// Starts the database server again at the same address and waits until it answers.
    pub fn resume(&mut self) -> Result<(), DbError> {
        match &mut self.servers {
            Servers::Postgres(server) | Servers::PgBouncer { server, .. } => server.resume()?,
            Servers::MariaDb(server) => server.resume()?,
        }
        Ok(())
    }

    /// The servers' logs: (file name, text).
    pub fn logs(&self) -> Vec<(&'static str, String)> {
        match &self.servers {
            Servers::Postgres(server) => vec![("postgres.log", server.log())],
            Servers::MariaDb(server) => vec![("mariadb.log", server.log())],
            Servers::PgBouncer { server, bouncer } => vec![
                ("postgres.log", server.log()),
                ("pgbouncer.log", bouncer.log()),
            ],
        }
    }
}

#[cfg(test)]
mod tests;
