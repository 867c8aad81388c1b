//! The MySQL engine (MySQL 8.0+ and MariaDB 10.6+; `mysql://` and `mariadb://` URLs): one
//! server shared by several replicas, as PostgreSQL.
//!
//! # How it keeps the store's rules
//!
//! - **Clock.** Every instant is `TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3))
//!   DIV 1000`: Unix epoch milliseconds of the server's clock. `UTC_TIMESTAMP` does not depend
//!   on the session's time zone (which is set to UTC on connect anyway, so that nothing the
//!   server shows is in another zone), has no year-2038 limit (`UNIX_TIMESTAMP` has one on
//!   MariaDB before 11.5), and gives a BIGINT. It is read once per statement: every use within
//!   one statement is the same instant.
//! - **Transactions.** Every connection runs READ COMMITTED (as PostgreSQL: each statement sees
//!   what committed before it, and locking reads take no gap locks, which in REPEATABLE READ
//!   turn concurrent inserts of ticks into deadlocks), with MySQL 8.0's default `sql_mode`
//!   (strict, `ONLY_FULL_GROUP_BY`) set explicitly so that MariaDB reads every statement alike.
//!   A statement may run 15 s (MySQL: `max_execution_time`, SELECTs only; MariaDB:
//!   `max_statement_time`) and wait as long for a row lock (`innodb_lock_wait_timeout`).
//!   READ COMMITTED needs row-based binary logging where the binary log is on (MySQL 8.0's
//!   default; MariaDB's default MIXED switches to rows by itself).
//! - **Per-tick key and fences.** In READ COMMITTED an `INSERT … SELECT` reads its source
//!   without locks, so every fenced write reads the job's row `LOCK IN SHARE MODE` (the one
//!   spelling both servers have; MySQL 8.0 also says `FOR SHARE`): an ownership change waits
//!   for it, as for `FOR SHARE` on PostgreSQL. A second start of a tick fails on the unique
//!   key of `runs`.
//! - **No `RETURNING`.** The operations that read back what they write (`writes.rs`) are one
//!   statement whose answer carries the generated id (`last_insert_id`), or a transaction of
//!   the write and a read. The run ledger's batches are a few statements over one JSON
//!   parameter (`JSON_TABLE`, `batches.rs`).
//! - **Claims** lock the jobs they take `FOR UPDATE SKIP LOCKED`, then update and read them.
//! - **Sessions.** A replica's session is a dedicated connection holding a named lock
//!   (`GET_LOCK`), which the server releases when the connection ends; peers check
//!   `IS_USED_LOCK` against the connection id the heartbeat recorded ([`session`]).
//! - **Notifications** go through the `changes` table, polled every 100 ms (`sql/changes.rs`);
//!   new events are noticed by polling the newest event id.
//!
//! # MySQL 8.0 and MariaDB alike
//!
//! Only MariaDB runs in this project's tests, so every statement keeps to what both document,
//! and these differences were checked against MySQL 8.0's reference manual and grammar:
//! - `LOCK IN SHARE MODE` rather than `FOR SHARE` (MariaDB has no `FOR SHARE`); MySQL's
//!   grammar allows a locking clause on the `SELECT` of an `INSERT … SELECT`, before `ON
//!   DUPLICATE KEY UPDATE`. A locking read locks the rows of its outer query only, not those
//!   its subqueries read (both manuals).
//! - `JSON_TABLE` columns declare `CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`: MariaDB's
//!   string columns otherwise take the server's character set (latin1 by default); MySQL's
//!   grammar takes a character set and a collation there too.
//! - `VALUES(col)` in `ON DUPLICATE KEY UPDATE`: deprecated since MySQL 8.0.20 (a warning) in
//!   favour of a row alias, which MariaDB does not have. The assignments run left to right on
//!   both, which the upserts rely on.
//! - No `RETURNING` (MariaDB has it for `INSERT` and `DELETE` only, MySQL not at all), no
//!   `NULLS LAST` (both sort NULL first; `ORDER BY x IS NULL, x` instead), no `LIMIT` in an
//!   `IN` subquery and no subquery reading the table a `DELETE` deletes from (both refuse
//!   them; a materialized derived table instead), `CAST(… AS SIGNED)` for a BIGINT literal.
//! - `key` is a reserved word on both: written `` `key` ``.
//! - Statement time limits are named differently (see above); the server's flavour is read
//!   from `VERSION()` on connect, which also refuses MySQL before 8.0 and MariaDB before 10.6
//!   (no `SKIP LOCKED` or `JSON_TABLE`).
//! - sqlx asks the server for found rows (`CLIENT_FOUND_ROWS`): an UPDATE counts the rows it
//!   matched, as on PostgreSQL, and an upsert that changes nothing counts 1, like an insert.

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySql, MySqlPool, MySqlQueryResult};

use super::driver::{FinishRow, JobEdit, ListenerDriver, Op, SessionDriver};
use super::error::StoreError;
use super::model::{BeginRun, Finished, Job, NewJob, NewRun, RunReason, RunStatus};
use super::open::ConnectOptions;
use super::sql::{Affected, Catalogue, Changes, ChangesSql, PolledChanges, SqlDb, SqlEngine};
use super::tokens::StoredToken;

/// The database clock: Unix epoch milliseconds as a BIGINT, whatever the session's time zone.
macro_rules! now_ms {
    () => {
        "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(3)) DIV 1000)"
    };
}

/// What else makes a replica (`instances i`) live: it recorded no session, or a session of a
/// server run that has ended (recorded before the newest server start any replica saw), or
/// the connection it recorded still holds its lock.
macro_rules! live_session {
    () => {
        " AND (i.session_pid IS NULL \
         OR i.session_since_ms < (SELECT COALESCE(MAX(b.session_boot_ms), 0) FROM instances b) \
         OR IS_USED_LOCK(i.session_lock) = i.session_pid)"
    };
}

/// The character set of text read out of JSON: the tables' own.
macro_rules! text_charset {
    () => {
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    };
}

/// A text column of a `JSON_TABLE`.
macro_rules! json_text_column {
    () => {
        concat!("VARCHAR(255) ", text_charset!())
    };
}

/// A JSON array of ids (one `?`) as a one-column set of rows.
macro_rules! json_ids {
    () => {
        concat!(
            "(SELECT x.id FROM JSON_TABLE(?, '$[*]' COLUMNS (id ",
            json_text_column!(),
            " PATH '$')) x)"
        )
    };
}

mod batches; // the run ledger's batches over JSON_TABLE
mod catalogue; // the statements of the shared executors
mod open; // connecting, the server check, migrations, error numbers
mod session; // a replica's session: the named lock
mod writes; // the operations that read back what they write

pub(crate) use open::ENGINE;

/// How many times a write runs when InnoDB keeps choosing it as a deadlock victim.
const DEADLOCK_ATTEMPTS: u32 = 10;

/// Runs `batch` (one transaction: a batch, or a run's start) again when InnoDB rolled it back
/// as a deadlock's victim (error 1213, SQLSTATE 40001): the whole transaction was undone, so
/// running it again is safe. Concurrent batches take next-key locks on the `runs` key in
/// interleaved ranges and may deadlock (measured: 4 writers of 256-run batches on the same 100
/// jobs); the database's answer is to retry — after a random pause that grows with each
/// attempt, so that the same writers do not meet again in the same order (without it, ten
/// immediate attempts all lost once in store-bench). After [`DEADLOCK_ATTEMPTS`] the error
/// stands (unavailable: the caller retries or re-plans, as for an outage).
async fn retry_deadlocks<T, Fut>(mut batch: impl FnMut() -> Fut) -> Result<T, StoreError>
where
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    loop {
        match batch().await {
            Err(e) if attempt < DEADLOCK_ATTEMPTS && is_deadlock(&e) => {
                tracing::debug!(
                    attempt,
                    "batch chosen as a deadlock victim; running it again"
                );
                let pause = rand::random_range(1..=5 * u64::from(attempt));
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                attempt += 1;
            }
            answer => return answer,
        }
    }
}

/// InnoDB rolled the transaction back to break a deadlock.
fn is_deadlock(error: &StoreError) -> bool {
    let (StoreError::Unavailable(e) | StoreError::Database(e)) = error else {
        return false;
    };
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "40001")
}

/// The MySQL driver: a connection pool (sessions open their own connections with its options
/// and settings), and what it keeps to announce changes.
#[derive(Debug)]
pub(crate) struct MysqlDriver {
    pool: MySqlPool,
    setup: open::Setup,
    changes: Changes,
}

impl SqlEngine for MysqlDriver {
    type Db = MySql;

    const MIGRATIONS: &'static Migrator = &open::MIGRATIONS;
    const SQL: Catalogue = catalogue::SQL;

    async fn connect(url: &str, options: &ConnectOptions) -> sqlx::Result<Self> {
        let (pool, setup) = open::connect(url, options).await?;
        Ok(MysqlDriver {
            pool,
            setup,
            changes: Changes::default(),
        })
    }
    fn migrate(&self) -> Op<'_, ()> {
        Box::pin(open::migrate(self))
    }
    fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    // ----- no RETURNING ----------------------------------------------------------------------

    fn create_job<'a>(&'a self, id: &'a str, new: &'a NewJob) -> Op<'a, Job> {
        Box::pin(writes::create_job(&self.pool, id, new))
    }
    fn update_job<'a>(&'a self, edit: JobEdit<'a>) -> Op<'a, Option<Job>> {
        Box::pin(writes::update_job(&self.pool, edit))
    }
    fn begin_run<'a>(&'a self, run: &'a NewRun) -> Op<'a, BeginRun> {
        Box::pin(retry_deadlocks(|| writes::begin_run(&self.pool, run)))
    }
    fn claim_jobs<'a>(
        &'a self,
        instance: &'a str,
        dead_after_ms: i64,
        limit: i64,
    ) -> Op<'a, Vec<Job>> {
        Box::pin(writes::claim_jobs(
            &self.pool,
            instance,
            dead_after_ms,
            limit,
        ))
    }
    fn heartbeat<'a>(&'a self, id: &'a str, address: &'a str, version: &'a str) -> Op<'a, i64> {
        Box::pin(writes::heartbeat(&self.pool, id, address, version))
    }
    fn append_event<'a>(&'a self, kind: &'a str, payload: &'a str) -> Op<'a, i64> {
        Box::pin(writes::append_event(&self.pool, kind, payload))
    }
    fn insert_trigger<'a>(&'a self, job_id: &'a str) -> Op<'a, Option<i64>> {
        Box::pin(writes::insert_trigger(&self.pool, job_id))
    }
    fn token_create<'a>(
        &'a self,
        name: &'a str,
        role: &'a str,
        sha256: &'a str,
        created_by: Option<&'a str>,
    ) -> Op<'a, Option<StoredToken>> {
        Box::pin(writes::token_create(
            &self.pool, name, role, sha256, created_by,
        ))
    }
    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: i64,
    ) -> Op<'a, Option<i64>> {
        Box::pin(writes::acquire_lease(&self.pool, name, holder, ttl_ms))
    }

    // ----- batches ---------------------------------------------------------------------------

    fn begin_runs<'a>(&'a self, runs: &'a [NewRun]) -> Op<'a, Vec<BeginRun>> {
        Box::pin(retry_deadlocks(|| batches::begin_many(&self.pool, runs)))
    }
    fn finish_runs<'a>(&'a self, finishes: &'a [FinishRow]) -> Op<'a, Vec<Finished>> {
        Box::pin(retry_deadlocks(|| {
            batches::finish_many(&self.pool, finishes)
        }))
    }
    fn record_ticks<'a>(
        &'a self,
        job_id: &'a str,
        instance: &'a str,
        epoch: i64,
        ticks: &'a [(i64, RunStatus, RunReason)],
    ) -> Op<'a, bool> {
        Box::pin(retry_deadlocks(move || {
            batches::record_ticks(&self.pool, job_id, instance, epoch, ticks)
        }))
    }

    // ----- capabilities ----------------------------------------------------------------------

    fn open_session(&self) -> Op<'_, Option<Box<dyn SessionDriver>>> {
        Box::pin(session::open(&self.pool, self.setup))
    }
    fn listen<'a>(&'a self, channels: &'a [&'a str]) -> Op<'a, Option<Box<dyn ListenerDriver>>> {
        Box::pin(super::sql::listen_polled(self, channels))
    }
    fn notify<'a>(&'a self, channel: &'a str, payload: &'a str) -> Op<'a, ()> {
        Box::pin(self.changes.notify(self, channel, payload))
    }
}

impl PolledChanges for MysqlDriver {
    const CHANGES: ChangesSql = ChangesSql {
        insert: concat!(
            "INSERT INTO changes (channel, payload, at_ms) VALUES (?, ?, ",
            now_ms!(),
            ")"
        ),
        prune: concat!(
            "DELETE FROM changes WHERE at_ms < ",
            now_ms!(),
            " - ? ORDER BY id LIMIT ?"
        ),
        head: "SELECT MAX(id) FROM changes",
        after: concat!(
            "SELECT id, channel, payload, ",
            now_ms!(),
            " - at_ms FROM changes WHERE id > ? ORDER BY id LIMIT ?"
        ),
    };
}

impl SqlDb for MySql {}

impl Affected for MySqlQueryResult {
    fn rows_affected(&self) -> u64 {
        MySqlQueryResult::rows_affected(self)
    }
}
