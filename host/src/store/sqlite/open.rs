//! Opening a SQLite database, its migrations, and what its error codes mean.

use std::str::FromStr;
use std::time::Duration;

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteError, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::SqliteDriver;
use crate::store::engines::{Backend, Engine};
use crate::store::open::ConnectOptions;
use crate::store::sql;

/// How the store knows SQLite.
pub(crate) const ENGINE: Engine = Engine {
    backend: Backend::Sqlite,
    schemes: &["sqlite:"],
    url_forms: &["sqlite://PATH", "sqlite::memory:"],
    open: sql::open::<SqliteDriver>,
    unavailable,
};

/// Schema migrations, embedded at build time.
pub(super) static MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// The file of the database at `url`; `None` for an in-memory database.
pub(crate) fn database_file(url: &str) -> Option<std::path::PathBuf> {
    if in_memory(url) {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

fn in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// A pool on the database at `url`, created if missing.
pub(super) async fn connect(
    url: &str,
    options: &ConnectOptions,
) -> Result<SqlitePool, sqlx::Error> {
    let connect = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5))
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new().acquire_timeout(options.connect_timeout);
    let pool = if in_memory(url) {
        // An in-memory database lives exactly as long as its connections: keep one, forever.
        pool.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        // One connection by default: the pool queues writers in order. With several, each
        // waits for the file's write lock by polling it (the busy timeout), the lock goes to
        // whoever polls at the right moment, and under a steady stream of batches the last
        // comers waited past the timeout (runs lost as "database unavailable").
        pool.max_connections(options.max_connections.unwrap_or(1))
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
