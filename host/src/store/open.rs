//! The [`Store`] handle: opening a database by URL, the per-call time limit, the schema and
//! the database clock.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::driver::Driver;
use super::engines::{self, Backend};
use super::error::{StoreError, redact_url};

/// Tunables of a connection; [`Default`] gives the production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Pool size (default 12 for PostgreSQL and MySQL/MariaDB, 1 for SQLite: one connection
    /// queues its writers in order).
    pub max_connections: Option<u32>,
    /// How long to wait for a connection, including establishing one (default 3 s).
    pub connect_timeout: Duration,
    /// Upper bound of any single store call (default 20 s); past it the call fails with
    /// [`StoreError::TimedOut`].
    pub operation_timeout: Duration,
    /// Server-side statement limit on PostgreSQL and MySQL/MariaDB (default 15 s).
    pub statement_timeout: Duration,
    /// How the server at the URL pools connections (default [`PoolMode::Session`]).
    pub pool_mode: PoolMode,
    /// A direct connection to the same database, for what needs a server session of its
    /// own (a replica's session lock, change notifications) when the URL goes through a
    /// transaction pooler.
    pub session_url: Option<String>,
}

/// How the server behind a database URL hands out server sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PoolMode {
    /// Every connection is a server session of its own (a direct connection, or a pooler in
    /// session mode).
    #[default]
    Session,
    /// A pooler in transaction mode (PgBouncer `pool_mode = transaction`, Supavisor, RDS
    /// Proxy): consecutive transactions of one connection may run on different server
    /// sessions. No named prepared statements, no startup parameters, no session state
    /// outside a transaction; session locks and `LISTEN` only through [`ConnectOptions::session_url`].
    Transaction,
}

impl std::str::FromStr for PoolMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "session" => Ok(PoolMode::Session),
            "transaction" => Ok(PoolMode::Transaction),
            other => Err(format!(
                "unknown pool mode {other:?} (expected session or transaction)"
            )),
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            connect_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(20),
            statement_timeout: Duration::from_secs(15),
            pool_mode: PoolMode::Session,
            session_url: None,
        }
    }
}

/// Handle on the database; cheap to clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) driver: Arc<dyn Driver>,
    backend: Backend,
    pub(super) operation_timeout: Duration,
}

impl Store {
    /// Opens the database at `url` with default [`ConnectOptions`]: `sqlite://PATH` (the file
    /// is created if missing), `sqlite::memory:`, `postgres://…`, `postgresql://…`,
    /// `mysql://…` or `mariadb://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Opens the database at `url` with explicit tunables.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Store, StoreError> {
        let engine =
            engines::for_url(url).ok_or_else(|| StoreError::UnsupportedUrl(redact_url(url)))?;
        let driver = (engine.open)(url, &options)
            .await
            .map_err(|source| StoreError::Open {
                url: redact_url(url),
                source,
            })?;
        Ok(Store {
            driver,
            backend: engine.backend,
            operation_timeout: options.operation_timeout,
        })
    }

    /// The local file of the database at `url`, if it is one (an embedded SQLite file; not
    /// a server, not an in-memory database).
    pub fn local_file(url: &str) -> Option<PathBuf> {
        match engines::for_url(url)?.backend {
            Backend::Sqlite => super::sqlite::database_file(url),
            _ => None,
        }
    }

    /// Which engine this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.driver.close().await
    }

    /// The newest schema version this binary knows.
    pub fn known_schema_version(&self) -> i64 {
        self.driver.known_schema_version()
    }

    /// Brings the schema up to date. Refuses ([`StoreError::SchemaTooNew`]) a database that a
    /// newer wasmcron has migrated past what this binary knows.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let known = self.known_schema_version();
        if let Some(found) = self.applied_schema_version().await?
            && found > known
        {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        // Not bounded by the per-call limit: a migration may rewrite large tables.
        self.driver.migrate().await
    }

    /// The newest schema version applied to the database, if it has been migrated at all.
    pub async fn applied_schema_version(&self) -> Result<Option<i64>, StoreError> {
        self.bounded(self.driver.applied_schema_version()).await
    }

    /// The database clock, in Unix epoch milliseconds.
    pub async fn now_ms(&self) -> Result<i64, StoreError> {
        self.bounded(self.driver.now_ms()).await
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(self.driver.ping()).await
    }

    /// Runs `call` under the per-call time limit, so an unresponsive database surfaces as
    /// [`StoreError::TimedOut`] instead of a hang.
    pub(crate) async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.operation_timeout, call)
            .await
            .unwrap_or(Err(StoreError::TimedOut(self.operation_timeout)))
    }
}
