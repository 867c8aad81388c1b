//! Opening a PostgreSQL database, its migrations, and what its error codes mean.

use std::str::FromStr;

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions};

use super::PostgresDriver;
use crate::store::engines::{Backend, Engine};
use crate::store::error::StoreError;
use crate::store::open::{ConnectOptions, PoolMode};
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

/// A pool on the server at `url`, with the store's session settings. Behind a transaction
/// pooler ([`PoolMode::Transaction`]) no startup parameter is sent (poolers refuse them, and a
/// session setting would not stay with this connection anyway) and no statement is cached.
pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<PgPool, sqlx::Error> {
    let connect = connect_options(url, options)?;
    PgPoolOptions::new()
        .max_connections(options.max_connections.unwrap_or(12))
        .acquire_timeout(options.connect_timeout)
        .connect_with(connect)
        .await
}

/// A small pool on `session_url`, a direct connection to the same database beside a
/// transaction pooler: it carries the replica's session lock, `LISTEN` and migrations.
/// Connected lazily, like sessions themselves.
pub(super) async fn sessions(
    session_url: &str,
    options: &ConnectOptions,
) -> Result<PgPool, sqlx::Error> {
    let direct = ConnectOptions {
        pool_mode: PoolMode::Session,
        ..options.clone()
    };
    Ok(PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(options.connect_timeout)
        .connect_lazy_with(connect_options(session_url, &direct)?))
}

/// How to connect to `url`: with the session settings as startup parameters on a server
/// session of its own; without any behind a transaction pooler.
pub(super) fn connect_options(
    url: &str,
    options: &ConnectOptions,
) -> Result<PgConnectOptions, sqlx::Error> {
    let connect = PgConnectOptions::from_str(url)?.application_name("wasmcron");
    Ok(match options.pool_mode {
        PoolMode::Session => {
            let statement_timeout = format!("{}ms", options.statement_timeout.as_millis());
            connect.options([
                ("statement_timeout", statement_timeout.as_str()),
                ("idle_in_transaction_session_timeout", "60s"),
            ])
        }
        PoolMode::Transaction => connect.extra_float_digits(None).statement_cache_capacity(0),
    })
}

/// What a failure to connect or to migrate through `url` most likely means when the server
/// is a connection pooler in transaction mode but the store was not told so: a line to add to
/// the error, or `None`.
pub(crate) fn pooler_hint(error: &StoreError) -> Option<&'static str> {
    let text = error.to_string();
    let pooled = text.contains("unsupported startup parameter")
        || (text.contains("prepared statement") && text.contains("sqlx_s_"));
    pooled.then_some(
        "the server looks like a connection pooler in transaction mode (PgBouncer, Supavisor, \
         RDS Proxy): start with --db-pool-mode transaction (WASMCRON_DB_POOL_MODE=transaction), \
         and give --db-session-url a direct connection to keep sub-second crash detection and \
         notifications",
    )
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
