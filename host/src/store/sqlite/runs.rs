//! The run lifecycle on SQLite: begin, finish, record ticks that were not run, abandon. A
//! batch is one `BEGIN IMMEDIATE` transaction of single-tick statements: SQLite locks the
//! whole database for a write anyway, so the transaction is what saves the commits.

use sqlx::{SqliteConnection, SqlitePool};

use crate::store::driver::{ABANDONED_ERROR, FinishRow};
use crate::store::error::StoreError;
use crate::store::model::{BeginRun, Finished, NewRun, RunReason, RunStatus};

/// Starts one tick if the caller owns the job under its epoch; `$1..$8` as in [`NewRun`].
const BEGIN: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
     instance_id, epoch, plugin_digest, started_at_ms) \
     SELECT j.id, $2, 'running', $6, $7, $8, $3, $4, $5, ",
    now_ms!(),
    " FROM jobs j WHERE j.id = $1 AND j.owner = $3 AND j.epoch = $4 \
     ON CONFLICT (job_id, scheduled_at_ms) DO NOTHING RETURNING id"
);

/// Whether one tick has a run.
pub(super) const RECORDED: &str =
    "SELECT COUNT(*) FROM runs WHERE job_id = $1 AND scheduled_at_ms = $2";

/// Finishes one run if it is still running under an epoch that is still the job's.
const FINISH: &str = concat!(
    "UPDATE runs SET status = $3, result = $4, error = $5, logs = $6, \
     finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
     FROM (SELECT ",
    now_ms!(),
    " AS ms) t WHERE runs.id = $1 AND runs.status = 'running' AND runs.epoch = $2 \
     AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND j.epoch = $2)"
);

/// Whether `$2` owns job `$1` under epoch `$3`.
const OWNS: &str = "SELECT COUNT(*) FROM jobs WHERE id = $1 AND owner = $2 AND epoch = $3";

/// Records one skipped/missed tick (inside a transaction that checked ownership).
const RECORD_TICK: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, \
     instance_id, epoch, finished_at_ms) \
     VALUES ($1, $4, $5, $6, 1, 0, 0, $2, $3, ",
    now_ms!(),
    ") ON CONFLICT (job_id, scheduled_at_ms) DO NOTHING"
);

/// Fails the runs of job `$1` still running under an epoch below `$2`.
const ABANDON: &str = concat!(
    "UPDATE runs SET status = 'failed', reason = $3, error = COALESCE(error, $4), \
     finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
     FROM (SELECT ",
    now_ms!(),
    " AS ms) t WHERE runs.job_id = $1 AND runs.status = 'running' AND runs.epoch < $2"
);

/// One insert; when nothing was inserted, one more query tells an already recorded tick
/// from a lost ownership.
async fn begin_on(conn: &mut SqliteConnection, run: &NewRun) -> Result<BeginRun, StoreError> {
    let started: Option<i64> = sqlx::query_scalar(BEGIN)
        .bind(&run.job_id)
        .bind(run.scheduled_at_ms)
        .bind(&run.instance_id)
        .bind(run.epoch)
        .bind(run.plugin_digest.as_deref())
        .bind(run.attempt)
        .bind(run.catch_up)
        .bind(run.manual)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(id) = started {
        return Ok(BeginRun::Started(id));
    }
    let recorded: i64 = sqlx::query_scalar(RECORDED)
        .bind(&run.job_id)
        .bind(run.scheduled_at_ms)
        .fetch_one(&mut *conn)
        .await?;
    Ok(if recorded > 0 {
        BeginRun::AlreadyRecorded
    } else {
        BeginRun::Fenced
    })
}

pub(super) async fn begin(pool: &SqlitePool, run: &NewRun) -> Result<BeginRun, StoreError> {
    begin_on(&mut *pool.acquire().await?, run).await
}

pub(super) async fn begin_many(
    pool: &SqlitePool,
    runs: &[NewRun],
) -> Result<Vec<BeginRun>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut answers = Vec::with_capacity(runs.len());
    for run in runs {
        answers.push(begin_on(&mut tx, run).await?);
    }
    tx.commit().await?;
    Ok(answers)
}

async fn finish_on(
    conn: &mut SqliteConnection,
    finish: &FinishRow,
) -> Result<Finished, StoreError> {
    let done = sqlx::query(FINISH)
        .bind(finish.run_id)
        .bind(finish.epoch)
        .bind(finish.status.as_str())
        .bind(finish.result.as_deref())
        .bind(finish.error.as_deref())
        .bind(finish.logs.as_deref())
        .execute(conn)
        .await?;
    Ok(if done.rows_affected() > 0 {
        Finished::Ok
    } else {
        Finished::Fenced
    })
}

pub(super) async fn finish(pool: &SqlitePool, finish: &FinishRow) -> Result<Finished, StoreError> {
    finish_on(&mut *pool.acquire().await?, finish).await
}

pub(super) async fn finish_many(
    pool: &SqlitePool,
    finishes: &[FinishRow],
) -> Result<Vec<Finished>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut answers = Vec::with_capacity(finishes.len());
    for finish in finishes {
        answers.push(finish_on(&mut tx, finish).await?);
    }
    tx.commit().await?;
    Ok(answers)
}

pub(super) async fn record_ticks(
    pool: &SqlitePool,
    job_id: &str,
    instance: &str,
    epoch: i64,
    ticks: &[(i64, RunStatus, RunReason)],
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let owns: i64 = sqlx::query_scalar(OWNS)
        .bind(job_id)
        .bind(instance)
        .bind(epoch)
        .fetch_one(&mut *tx)
        .await?;
    if owns == 0 {
        return Ok(false);
    }
    for (scheduled_at_ms, status, reason) in ticks {
        sqlx::query(RECORD_TICK)
            .bind(job_id)
            .bind(instance)
            .bind(epoch)
            .bind(scheduled_at_ms)
            .bind(status.as_str())
            .bind(reason.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn abandon(
    pool: &SqlitePool,
    job_id: &str,
    epoch: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(ABANDON)
        .bind(job_id)
        .bind(epoch)
        .bind(RunReason::Abandoned.as_str())
        .bind(ABANDONED_ERROR)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
