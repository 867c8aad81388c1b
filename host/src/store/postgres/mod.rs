//! The PostgreSQL engine: one server shared by several replicas.
//!
//! Its catalogue is `standard_sql!` with its own pieces below: fenced writes take
//! `FOR SHARE` on the job row so an ownership change waits for them, and claims skip rows a
//! concurrent claim has locked. It runs its batches as one statement over bound arrays
//! (`UNNEST`, [`batches`]) instead of a transaction of single statements, and it has both
//! capabilities: a replica's session is a dedicated connection holding a session-level
//! advisory lock ([`session`]), and changes are announced with `LISTEN`/`NOTIFY`
//! ([`notify`]). Everything else runs on the shared executors.
//!
//! Behind a connection pooler in transaction mode (`PoolMode::Transaction`: PgBouncer,
//! Supavisor, RDS Proxy) consecutive transactions of one connection may run on different
//! server sessions, so nothing may live in a session: no startup parameters, no named
//! prepared statements, migrations applied one transaction at a time ([`migrate_pooled`]),
//! and the capabilities only through a direct connection when one is given
//! (`ConnectOptions::session_url`).
//! Without one, listeners poll the `changes` table (`sql/changes.rs`); every change is
//! announced both ways, so replicas that listen and replicas that poll can share a cluster.

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgQueryResult, Postgres};

use super::driver::{FinishRow, ListenerDriver, Op, SessionDriver};
use super::model::{BeginRun, Finished, NewRun, RunReason, RunStatus};
use super::open::{ConnectOptions, PoolMode};
use super::sql::{Affected, Catalogue, Changes, ChangesSql, PolledChanges, SqlDb, SqlEngine};

/// The database clock: Unix epoch milliseconds as a bigint.
macro_rules! now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}

mod batches; // UNNEST batches
mod migrate_pooled; // migrations through a transaction pooler
/// Runs `$body` (a future of `Result<_, StoreError>`) with `$c` a connection: a pooled one,
/// or, behind a transaction pooler, one inside a transaction of its own (committed after).
macro_rules! on_conn {
    ($driver:expr, |$c:ident| $body:expr) => {{
        match $driver.statement_begin() {
            None => {
                let mut conn = $driver.pool.acquire().await?;
                let $c = &mut $driver.held(&mut conn);
                $body.await
            }
            Some(begin) => {
                let mut tx = $driver
                    .pool
                    .begin_with(sqlx::AssertSqlSafe(begin.to_owned()))
                    .await?;
                let $c = &mut $driver.held(&mut tx);
                let answer = $body.await?;
                tx.commit().await?;
                Ok(answer)
            }
        }
    }};
}

mod notify; // LISTEN and NOTIFY
mod open; // connecting, migrations, error codes
mod session; // a replica's session: the advisory lock

pub(crate) use open::{ENGINE, pooler_hint};

/// The PostgreSQL driver: a connection pool, and where server sessions of its own come
/// from (a replica's session lock, `LISTEN`): the same server (a direct connection or a
/// pooler in session mode), a direct connection beside a transaction pooler
/// (`--db-session-url`), or nowhere (a transaction pooler alone: liveness by heartbeat,
/// notifications by polling).
#[derive(Debug)]
pub(crate) struct PostgresDriver {
    pool: PgPool,
    mode: PoolMode,
    sessions: Option<PgPool>,
    changes: Changes,
    /// Behind a transaction pooler: what starts the transaction around every statement,
    /// with the statement time limit the server session cannot keep.
    statement_begin: Option<String>,
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
        let sessions = match (options.pool_mode, &options.session_url) {
            (PoolMode::Session, _) => Some(pool.clone()),
            (PoolMode::Transaction, Some(session_url)) => {
                Some(open::sessions(session_url, options).await?)
            }
            (PoolMode::Transaction, None) => None,
        };
        Ok(PostgresDriver {
            pool,
            mode: options.pool_mode,
            sessions,
            changes: Changes::default(),
            statement_begin: match options.pool_mode {
                PoolMode::Session => None,
                PoolMode::Transaction => Some(format!(
                    "BEGIN; SET LOCAL statement_timeout = {}",
                    options.statement_timeout.as_millis()
                )),
            },
        })
    }
    fn migrate(&self) -> Op<'_, ()> {
        Box::pin(async move {
            match (self.mode, &self.sessions) {
                // A server session of its own: sqlx's migrator (it takes a session lock).
                (PoolMode::Session, _) | (PoolMode::Transaction, Some(_)) => {
                    let direct = self.sessions.as_ref().unwrap_or(&self.pool);
                    open::migrate(direct).await
                }
                (PoolMode::Transaction, None) => migrate_pooled::migrate(&self.pool).await,
            }
        })
    }
    fn pool(&self) -> &PgPool {
        &self.pool
    }
    fn statement_begin(&self) -> Option<&str> {
        self.statement_begin.as_deref()
    }

    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>> {
        Box::pin(async move { on_conn!(self, |c| batches::begin_many(c, runs)) })
    }
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>> {
        Box::pin(async move { on_conn!(self, |c| batches::finish_many(c, finishes)) })
    }
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool> {
        Box::pin(async move {
            on_conn!(self, |c| batches::record_ticks(
                c, job_id, instance, epoch, ticks
            ))
        })
    }
    fn append_events<'a>(&'a self, events: &'a [(&'a str, String)]) -> Op<'a, ()> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            on_conn!(self, |c| notify::append_events(c, events))
        })
    }
    fn hand_over<'a>(
        &'a self,
        from: &'a str,
        to: &'a str,
        jobs: &'a [(String, i64)],
    ) -> Op<'a, Vec<String>> {
        Box::pin(async move { on_conn!(self, |c| batches::hand_over(c, from, to, jobs)) })
    }

    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>> {
        Box::pin(async move {
            match &self.sessions {
                Some(sessions) => session::open(sessions).await,
                None => Ok(None),
            }
        })
    }
    fn listen<'a>(&'a self, channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>> {
        Box::pin(async move {
            match &self.sessions {
                Some(sessions) => notify::listen(sessions, channels).await,
                None => super::sql::listen_polled(self, channels).await,
            }
        })
    }
    fn notify<'a>(&'a self, channel: &'a str, payload: &'a str) -> Op<'a, ()> {
        // Both ways: listeners with a session hear the NOTIFY at once, pollers read the row.
        Box::pin(async move {
            on_conn!(self, |c| notify::notify(c, channel, payload))?;
            self.changes.notify(self, channel, payload).await
        })
    }
}

impl PolledChanges for PostgresDriver {
    const CHANGES: ChangesSql = ChangesSql {
        insert: concat!(
            "INSERT INTO changes (channel, payload, at_ms) VALUES ($1, $2, ",
            now_ms!(),
            ")"
        ),
        prune: concat!(
            "DELETE FROM changes WHERE id IN (SELECT id FROM changes WHERE at_ms < ",
            now_ms!(),
            " - $1 ORDER BY id LIMIT $2)"
        ),
        head: "SELECT MAX(id) FROM changes",
        after: concat!(
            "SELECT id, channel, payload, ",
            now_ms!(),
            " - at_ms FROM changes WHERE id > $1 ORDER BY id LIMIT $2"
        ),
    };
}

impl SqlDb for Postgres {}

impl Affected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}
