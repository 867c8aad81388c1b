//! The PostgreSQL engine: one server shared by several replicas.
//!
//! Its catalogue is `standard_sql!` with its own pieces below: fenced writes take
//! `FOR SHARE` on the job row so an ownership change waits for them, and claims skip rows a
//! concurrent claim has locked. It runs its batches as one statement over bound arrays
//! (`UNNEST`, [`batches`]) instead of a transaction of single statements, and it has both
//! capabilities: a replica's session is a dedicated connection holding a session-level
//! advisory lock ([`session`]), and changes are announced with `LISTEN`/`NOTIFY`
//! ([`notify`]). Everything else runs on the shared executors.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgQueryResult, Postgres};

use super::driver::{FinishRow, ListenerDriver, Op, SessionDriver};
use super::model::{BeginRun, Finished, NewRun, RunReason, RunStatus};
use super::open::ConnectOptions;
use super::sql::{Affected, Catalogue, SqlDb, SqlEngine};

/// The database clock: Unix epoch milliseconds as a bigint.
macro_rules! now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}

mod batches; // UNNEST batches
mod notify; // LISTEN and NOTIFY
mod open; // connecting, migrations, error codes
mod session; // a replica's session: the advisory lock

pub(crate) use open::ENGINE;

/// The PostgreSQL driver: a connection pool (sessions and listeners open their own
/// connections with the pool's options).
#[derive(Debug)]
pub(crate) struct PostgresDriver {
    pool: PgPool,
}

impl SqlEngine for PostgresDriver {
    type Db = Postgres;

    const MIGRATIONS: &'static Migrator = &open::MIGRATIONS;

    const SQL: Catalogue = standard_sql! {
        now: now_ms!(),
        // A replica is live only while the session it recorded (a backend pid, see
        // `session.rs`) still holds an advisory lock in this database, unless it recorded
        // none or recorded it before the server last started.
        live_session: " AND (i.session_pid IS NULL \
             OR i.session_since_ms < (extract(epoch from pg_postmaster_start_time()) * 1000)::bigint \
             OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted \
               AND l.pid = i.session_pid \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))",
        lock_job: " FOR SHARE OF j",
        claim_lock: " FOR UPDATE SKIP LOCKED",
        json_ids: ("(SELECT jsonb_array_elements_text(", "::jsonb))"),
        begin_write: "BEGIN",
        schema_table: "SELECT COUNT(*) FROM pg_catalog.pg_tables \
                       WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()",
    };

    async fn connect(url: &str, options: &ConnectOptions) -> sqlx::Result<Self> {
        let pool = open::connect(url, options).await?;
        Ok(PostgresDriver { pool })
    }
    fn migrate(&self) -> Op<'_, ()> {
        Box::pin(open::migrate(&self.pool))
    }
    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>> {
        Box::pin(batches::begin_many(&self.pool, runs))
    }
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>> {
        Box::pin(batches::finish_many(&self.pool, finishes))
    }
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool> {
        Box::pin(batches::record_ticks(
            &self.pool, job_id, instance, epoch, ticks,
        ))
    }
    fn hand_over<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        jobs: &'a [(String, i64)],
    ) -> Op<'a, Vec<String>> {
        Box::pin(batches::hand_over(&self.pool, from, to, jobs))
    }

    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>> {
        Box::pin(session::open(&self.pool))
    }
    fn listen<'a>(&'a self, channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>> {
        Box::pin(notify::listen(&self.pool, channels))
    }
    fn notify<'a>(&'a self, channel: &'a str, payload: &'a str) -> Op<'a, ()> {
        Box::pin(notify::notify(&self.pool, channel, payload))
    }
}

impl SqlDb for Postgres {}

impl Affected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}
