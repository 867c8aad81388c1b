//! Opening a SQLite database, its schema, its clock, and what its error codes mean.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteError, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::SqliteDriver;
use crate::store::driver::Driver;
use crate::store::engines::{Backend, Engine};
use crate::store::error::StoreError;
use crate::store::open::ConnectOptions;

/// How the store knows SQLite.
pub(crate) const ENGINE: Engine = Engine {
    backend: Backend::Sqlite,
    schemes: &["sqlite:"],
    url_forms: &["sqlite://PATH", "sqlite::memory:"],
    open,
    unavailable,
};

/// Schema migrations, embedded at build time.
static MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

fn open<'a>(
    url: &'a str,
    options: &'a ConnectOptions,
) -> BoxFuture<'a, Result<Arc<dyn Driver>, sqlx::Error>> {
    Box::pin(async move {
        let pool = connect(url, options).await?;
        Ok(Arc::new(SqliteDriver { pool }) as Arc<dyn Driver>)
    })
}

async fn connect(url: &str, options: &ConnectOptions) -> Result<SqlitePool, sqlx::Error> {
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

/// SQLite result codes 5 (`SQLITE_BUSY`) and 6 (`SQLITE_LOCKED`), and their extended codes
/// (which keep the primary code in the low byte), mean "try again"; `None` for another
/// engine's error.
fn unavailable(error: &(dyn DatabaseError + 'static)) -> Option<bool> {
    error.try_downcast_ref::<SqliteError>()?;
    Some(is_busy(&error.code().unwrap_or_default()))
}

fn is_busy(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

/// The newest embedded schema version.
pub(super) fn known_schema_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The newest applied schema version, if the database was ever migrated.
pub(super) async fn applied_schema_version(pool: &SqlitePool) -> Result<Option<i64>, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await?;
    if count == 0 {
        return Ok(None);
    }
    Ok(
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?,
    )
}

/// Applies the embedded migrations.
pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    MIGRATIONS.run(pool).await?;
    Ok(())
}

/// The database clock.
pub(super) async fn now_ms(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(concat!("SELECT ", now_ms!()))
        .fetch_one(pool)
        .await?)
}

/// One round trip.
pub(super) async fn ping(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_locked_codes_are_unavailable() {
        assert!(is_busy("5"));
        assert!(is_busy("517")); // SQLITE_BUSY_SNAPSHOT
        assert!(is_busy("6"));
        assert!(!is_busy("19")); // SQLITE_CONSTRAINT
    }
}
