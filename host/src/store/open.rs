//! The [`Store`] handle: opening a database by URL, the per-call time limit, the schema and
//! the database clock.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::driver::Driver;
use super::engines::{self, Backend};
use super::error::{StoreError, redact_url};

/// Tunables of a connection; [`Default`] gives the production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Pool size (default 12 for PostgreSQL and MySQL/MariaDB, 4 for a SQLite file, 1 for
    /// SQLite memory).
    pub max_connections: Option<u32>,
    /// How long to wait for a connection, including establishing one (default 3 s).
    pub connect_timeout: Duration,
    /// Upper bound of any single store call (default 20 s); past it the call fails with
    /// [`StoreError::TimedOut`].
    pub operation_timeout: Duration,
    /// Server-side statement limit on PostgreSQL and MySQL/MariaDB (default 15 s).
    pub statement_timeout: Duration,
    /// How replicas hear of each other's changes on PostgreSQL (default
    /// [`Notifications::Listen`]). MySQL/MariaDB always poll; SQLite has nobody to tell.
    pub notifications: Notifications,
}

/// How change notifications travel between replicas on an engine that can push them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Notifications {
    /// `LISTEN`/`NOTIFY` (PostgreSQL): a listener on a dedicated connection hears a change at
    /// once.
    #[default]
    Listen,
    /// A `changes` table that every listener reads every 200 ms: for connections that cannot
    /// keep a `LISTEN` (PostgreSQL behind a transaction-mode pooler). Every replica of a
    /// cluster must use the same way.
    Poll,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            connect_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(20),
            statement_timeout: Duration::from_secs(15),
            notifications: Notifications::Listen,
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
