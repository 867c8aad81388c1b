//! Opening a PostgreSQL database, its migrations, and what its error codes mean.

use std::str::FromStr;

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions};

use super::PostgresDriver;
use crate::store::engines::{Backend, Engine};
use crate::store::error::StoreError;
use crate::store::open::ConnectOptions;
use crate::store::sql;

/// How the store knows PostgreSQL.
pub(crate) const ENGINE: Engine = Engine {
    backend: Backend::Postgres,
    schemes: &["postgres://", "postgresql://"],
    url_forms: &["postgres://", "postgresql://"],
    open: sql::open::<PostgresDriver>,
    unavailable,
};

/// Schema migrations, embedded at build time.
pub(super) static MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// A pool on the server at `url`, with the store's session settings.
pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<PgPool, sqlx::Error> {
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

/// `Some(true)` for the SQLSTATEs that mean "cannot serve now, try again"; `None` for another
/// engine's error.
fn unavailable(error: &(dyn DatabaseError + 'static)) -> Option<bool> {
    error.try_downcast_ref::<PgDatabaseError>()?;
    Some(is_unavailable(&error.code().unwrap_or_default()))
}

/// Class 08 (connection exception), 57P01..57P05 (shutting down, cannot connect now), 53300
/// (too many connections), 57014 (statement timeout), 40001/40P01 (serialization failure,
/// deadlock).
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("57P")
        || matches!(code, "53300" | "57014" | "40001" | "40P01")
}

/// Applies the embedded migrations on one connection without a statement time limit.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await?;
    // `run_direct` is what `run` does after acquiring; called directly, the future is provably
    // `Send` (through `run`, rustc cannot tell that `Acquire` holds for every lifetime).
    let migrated = MIGRATIONS.run_direct(None, &mut *conn, false).await;
    // Back to the connection's configured limit before it returns to the pool.
    sqlx::query("RESET statement_timeout")
        .execute(&mut *conn)
        .await?;
    migrated?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_and_connection_codes_are_unavailable() {
        assert!(is_unavailable("57P01"));
        assert!(is_unavailable("08006"));
        assert!(is_unavailable("40P01"));
        assert!(!is_unavailable("23505"));
    }
}
