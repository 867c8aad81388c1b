//! Opening a PostgreSQL database, its schema, its clock, and what its error codes mean.

use std::str::FromStr;
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions};

use super::PostgresDriver;
use crate::store::driver::Driver;
use crate::store::engines::{Backend, Engine};
use crate::store::error::StoreError;
use crate::store::open::ConnectOptions;

/// How the store knows PostgreSQL.
pub(crate) const ENGINE: Engine = Engine {
    backend: Backend::Postgres,
    schemes: &["postgres://", "postgresql://"],
    url_forms: &["postgres://", "postgresql://"],
    open,
    unavailable,
};

/// Schema migrations, embedded at build time.
static MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

fn open<'a>(
    url: &'a str,
    options: &'a ConnectOptions,
) -> BoxFuture<'a, Result<Arc<dyn Driver>, sqlx::Error>> {
    Box::pin(async move {
        let pool = connect(url, options).await?;
        Ok(Arc::new(PostgresDriver { pool }) as Arc<dyn Driver>)
    })
}

async fn connect(url: &str, options: &ConnectOptions) -> Result<PgPool, sqlx::Error> {
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

/// The newest embedded schema version.
pub(super) fn known_schema_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The newest applied schema version, if the database was ever migrated.
pub(super) async fn applied_schema_version(pool: &PgPool) -> Result<Option<i64>, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_catalog.pg_tables \
         WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()",
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

/// The database clock.
pub(super) async fn now_ms(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(concat!("SELECT ", now_ms!()))
        .fetch_one(pool)
        .await?)
}

/// One round trip.
pub(super) async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
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
