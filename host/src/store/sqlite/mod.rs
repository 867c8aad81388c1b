//! The SQLite engine: one embedded database file (or memory) for a single replica.
//!
//! SQLite speaks the standard statements (`$1`-style parameters, `ON CONFLICT … DO`,
//! `RETURNING`), so its catalogue is `standard_sql!` with its own pieces below, and it runs
//! every operation with the shared executors: it has no row locks (a write locks the whole
//! database), so a batch is one `BEGIN IMMEDIATE` transaction of single statements, and it
//! has neither server sessions nor change notifications.

use sqlx::migrate::Migrator;
use sqlx::sqlite::{Sqlite, SqlitePool, SqliteQueryResult};

use super::driver::Op;
use super::open::ConnectOptions;
use super::sql::{Affected, Catalogue, SqlDb, SqlEngine};

/// The database clock: Unix epoch milliseconds as an integer.
macro_rules! now_ms {
    () => {
        "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
    };
}

mod open; // connecting, migrations, error codes

pub(crate) use open::{ENGINE, database_file};

/// The SQLite driver: a connection pool.
#[derive(Debug)]
pub(crate) struct SqliteDriver {
    pool: SqlitePool,
}

impl SqlEngine for SqliteDriver {
    type Db = Sqlite;

    const MIGRATIONS: &'static Migrator = &open::MIGRATIONS;

    const SQL: Catalogue = standard_sql! {
        now: now_ms!(),
        // No sessions: the heartbeat alone decides.
        live_session: "",
        // No row locks: a write locks the whole database.
        lock_job: "",
        claim_lock: "",
        json_ids: ("(SELECT value FROM json_each(", "))"),
        // Takes the write lock at once, so the transaction never has to upgrade it.
        begin_write: "BEGIN IMMEDIATE",
        schema_table: "SELECT COUNT(*) FROM sqlite_master \
                       WHERE type = 'table' AND name = '_sqlx_migrations'",
    };

    async fn connect(url: &str, options: &ConnectOptions) -> sqlx::Result<Self> {
        let pool = open::connect(url, options).await?;
        Ok(SqliteDriver { pool })
    }
    fn migrate(&self) -> Op<'_, ()> {
        Box::pin(async { Ok(open::MIGRATIONS.run(&self.pool).await?) })
    }
    fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl SqlDb for Sqlite {}

impl Affected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}
