//! The storage layer: jobs, runs, replicas, ownership, plugin state and settings in one SQL
//! database, SQLite (embedded, single replica) or PostgreSQL (shared by several replicas).
//!
//! Two rules hold throughout:
//! - Every instant is a BIGINT of Unix epoch milliseconds, and the **database clock is the only
//!   clock**: every time stamp is computed in SQL, and [`Store::now_ms`] reads that clock.
//! - A tick's durable identity is `(job id, scheduled_at_ms)` (a unique key of `runs`), and
//!   every write made on behalf of a job's owner is *fenced*: it happens only if the job's
//!   `owner` and `epoch` still match, in the same statement that writes.

#[macro_use]
mod sql;
mod error;
pub mod events;
mod instances;
mod jobs;
pub mod leases;
pub mod model;
pub mod notify;
pub mod ownership;
mod rows;
mod runs;
pub mod session;
mod settings;
mod state;
pub mod takeover;
mod text;
mod tokens;

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use error::{StoreError, redact_url};
pub use model::*;
pub use text::{ERROR_LIMIT_BYTES, LOGS_LIMIT_BYTES, RESULT_LIMIT_BYTES, TRUNCATION_MARKER};
pub use tokens::StoredToken;

/// Schema migrations for SQLite, embedded at build time.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
/// Schema migrations for PostgreSQL, embedded at build time.
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
/// Table in which the migrator records applied schema versions.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Embedded SQLite file (or memory).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// Tunables of a connection; [`Default`] gives the production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Pool size (default 12 for PostgreSQL, 4 for a SQLite file, 1 for SQLite memory).
    pub max_connections: Option<u32>,
    /// How long to wait for a connection, including establishing one (default 3 s).
    pub connect_timeout: Duration,
    /// Upper bound of any single store call (default 20 s); past it the call fails with
    /// [`StoreError::TimedOut`].
    pub operation_timeout: Duration,
    /// Server-side statement limit on PostgreSQL (default 15 s).
    pub statement_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            connect_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(20),
            statement_timeout: Duration::from_secs(15),
        }
    }
}

/// The connection pool of one backend.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Handle on the database; cheap to clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    operation_timeout: Duration,
}

impl Store {
    /// Opens the database at `url` with default [`ConnectOptions`]: `sqlite://PATH` (the file
    /// is created if missing), `sqlite::memory:`, `postgres://…` or `postgresql://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Opens the database at `url` with explicit tunables.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: redact_url(url),
            source,
        };
        let pool = if url.starts_with("sqlite:") {
            Pool::Sqlite(connect_sqlite(url, &options).await.map_err(open_error)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::Postgres(connect_postgres(url, &options).await.map_err(open_error)?)
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Store {
            pool,
            operation_timeout: options.operation_timeout,
        })
    }

    /// Which engine this store talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// The newest schema version this binary knows.
    pub fn known_schema_version(&self) -> i64 {
        newest_version(self.migrator())
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
        let migrator = self.migrator();
        match &self.pool {
            Pool::Sqlite(pool) => migrator.run(pool).await?,
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("SET statement_timeout = 0")
                    .execute(&mut *conn)
                    .await?;
                let migrated = migrator.run(&mut *conn).await;
                // Back to the connection's configured limit before it returns to the pool.
                sqlx::query("RESET statement_timeout")
                    .execute(&mut *conn)
                    .await?;
                migrated?;
            }
        }
        Ok(())
    }

    /// The newest schema version applied to the database, if it has been migrated at all.
    pub async fn applied_schema_version(&self) -> Result<Option<i64>, StoreError> {
        let table_exists = sql::Sql {
            sqlite: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            postgres: "SELECT COUNT(*) FROM pg_catalog.pg_tables \
                       WHERE tablename = $1 AND schemaname = current_schema()",
        };
        let newest = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        on_pool!(self, |pool, backend| {
            let count: i64 = sqlx::query_scalar(table_exists.get(backend))
                .bind(MIGRATIONS_TABLE)
                .fetch_one(pool)
                .await?;
            if count == 0 {
                return Ok(None);
            }
            Ok(sqlx::query_scalar::<_, Option<i64>>(newest)
                .fetch_one(pool)
                .await?)
        })
    }

    /// The database clock, in Unix epoch milliseconds.
    pub async fn now_ms(&self) -> Result<i64, StoreError> {
        let now = sql!("SELECT ", now);
        on_pool!(self, |pool, backend| {
            Ok(sqlx::query_scalar(now.get(backend)).fetch_one(pool).await?)
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool, _backend| {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        })
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
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

fn newest_version(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn connect_sqlite(url: &str, options: &ConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    let connect = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5))
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = SqlitePoolOptions::new().acquire_timeout(options.connect_timeout);
    let pool = if in_memory {
        // An in-memory database lives exactly as long as its connections: keep one, forever.
        pool.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        pool.max_connections(options.max_connections.unwrap_or(4))
    };
    pool.connect_with(connect).await
}

async fn connect_postgres(url: &str, options: &ConnectOptions) -> Result<PgPool, sqlx::Error> {
    let statement_timeout = format!("{}ms", options.statement_timeout.as_millis());
    let connect = PgConnectOptions::from_str(url)?
        .application_name("wasmcron")
        .options([
            ("statement_timeout", statement_timeout.as_str()),
            ("idle_in_transaction_session_timeout", "60s"),
        ]);
    PgPoolOptions::new()
        .max_connections(options.max_connections.unwrap_or(12))
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect)
        .await
}
