//! Migrations through a connection pooler in transaction mode, where sqlx's migrator cannot
//! run: it holds a session-level advisory lock and prepares named statements, and behind such
//! a pooler consecutive transactions may run on different server sessions.
//!
//! Each pending migration is applied as one simple-protocol query — `BEGIN`, a
//! transaction-level advisory lock, the migration's SQL, its row in sqlx's
//! `_sqlx_migrations` table, `COMMIT` — which a pooler runs on one server session from start
//! to end. The table and its rows are sqlx's own, so a database migrated this way and one
//! migrated by sqlx's migrator are the same. Two replicas starting at once: the second waits
//! on the lock, then fails on the row the first inserted (its transaction changes nothing),
//! reads the applied versions again and moves on.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::{PgPool, Row};

use super::open::MIGRATIONS;
use crate::store::error::StoreError;

/// Keys of the transaction-level advisory lock migrations take (`'wasm'`, `'migr'`).
const LOCK: (i32, i32) = (0x7761_736d, 0x6d69_6772);

/// The table sqlx's PostgreSQL migrator keeps (the same columns).
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations ( \
     version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
     installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
     checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)";

/// Applies every pending migration, one transaction each.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let conn = &mut *conn;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "BEGIN; SELECT pg_advisory_xact_lock({}, {}); {CREATE_TABLE}; COMMIT;",
        LOCK.0, LOCK.1
    )))
    .execute(&mut *conn)
    .await?;
    let mut done = applied(conn).await?;
    for migration in MIGRATIONS.iter() {
        if migration.migration_type.is_down_migration() {
            continue;
        }
        if let Some(checksum) = done.get(&migration.version) {
            if *checksum != *migration.checksum {
                return Err(StoreError::Migrate(
                    sqlx::migrate::MigrateError::VersionMismatch(migration.version),
                ));
            }
            continue;
        }
        let apply = format!(
            "BEGIN; SELECT pg_advisory_xact_lock({}, {}); {}; \
             INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES ({}, {}, TRUE, '\\x{}'::bytea, -1); COMMIT;",
            LOCK.0,
            LOCK.1,
            migration.sql.as_str(),
            migration.version,
            quote(&migration.description),
            hex::encode(&migration.checksum),
        );
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(apply))
            .execute(&mut *conn)
            .await
        {
            // The failed statement left its transaction open and aborted (it runs on this
            // connection's server session until it ends): end it, then look again. Applied
            // meanwhile by another replica (its row is there now): move on.
            sqlx::raw_sql(sqlx::AssertSqlSafe("ROLLBACK".to_owned()))
                .execute(&mut *conn)
                .await?;
            done = applied(conn).await?;
            if !done.contains_key(&migration.version) {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// `(version → checksum)` of the migrations applied successfully.
async fn applied(conn: &mut PgConnection) -> Result<HashMap<i64, Vec<u8>>, StoreError> {
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(
        "SELECT version::text, encode(checksum, 'hex') FROM _sqlx_migrations WHERE success"
            .to_owned(),
    ))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let version: String = row.try_get(0)?;
            let checksum: String = row.try_get(1)?;
            let corrupt = |detail: String| StoreError::Corrupt {
                what: "applied migration",
                detail,
            };
            Ok((
                version.parse().map_err(|_| corrupt(version.clone()))?,
                hex::decode(&checksum).map_err(|e| corrupt(e.to_string()))?,
            ))
        })
        .collect()
}

/// `text` as an SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(quote("it's"), "'it''s'");
    }
}
