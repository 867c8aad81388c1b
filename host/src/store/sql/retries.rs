//! Retries, and the health of a job (its last success, its stale mark).
//!
//! Retries: the next attempt of a tick is planned in the transaction that records the failure
//! of the one before (so it exists only if that failure was recorded, fenced), and consumed in
//! the transaction that records its own start (so it runs at most once, and never after a
//! pause, an edit or a delete dropped it).

use super::runs::{begin_run_stmt, finish_on};
use super::{SqlEngine, Stmt};
use crate::store::driver::FinishRow;
use crate::store::error::StoreError;
use crate::store::failure::{PendingRetry, RetryWait};
use crate::store::model::{BeginRun, Finished, NewRun};

/// A `run_retries` row: (job, tick, attempt, due, catch-up, manual).
type RetryRow = (String, i64, i32, i64, bool, bool);

pub(super) async fn finish_and_plan<E: SqlEngine>(
    engine: &E,
    finish: &FinishRow,
    delay_ms: i64,
) -> Result<Finished, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    if finish_on::<E>(&mut held, finish).await? == Finished::Fenced {
        return Ok(Finished::Fenced);
    }
    Stmt::<E::Db>::new(E::SQL.plan_retry)
        .bind(delay_ms)
        .bind(finish.run_id)
        .execute(held.on())
        .await?;
    tx.commit().await?;
    Ok(Finished::Ok)
}

pub(super) async fn begin_attempt<E: SqlEngine>(
    engine: &E,
    run: &NewRun,
) -> Result<BeginRun, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    // The job's lock first, as an edit takes it before dropping the planned attempts.
    Stmt::<E::Db>::new(E::SQL.lock_job_row)
        .bind(run.job_id.as_str())
        .execute(held.on())
        .await?;
    let consumed = Stmt::<E::Db>::new(E::SQL.consume_retry)
        .bind(run.job_id.as_str())
        .bind(run.scheduled_at_ms)
        .bind(run.attempt)
        .execute(held.on())
        .await?;
    if consumed == 0 {
        // Run already, or dropped: nothing to start.
        return Ok(BeginRun::AlreadyRecorded);
    }
    // The start, fenced like a tick's first attempt (its answer rows, if any, are not read).
    let inserted = begin_run_stmt::<E>(run).execute(held.on()).await?;
    if inserted == 0 {
        // Not the owner (the rollback keeps the planned attempt for the one who is).
        return Ok(BeginRun::Fenced);
    }
    let id: i64 = Stmt::<E::Db>::new(E::SQL.attempt_id)
        .bind(run.job_id.as_str())
        .bind(run.scheduled_at_ms)
        .bind(run.attempt)
        .scalar(held.on())
        .await?;
    tx.commit().await?;
    Ok(BeginRun::Started(id))
}

pub(super) async fn wait<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    scheduled_at_ms: i64,
    attempt: i32,
) -> Result<RetryWait, StoreError> {
    let due_in: Option<i64> = Stmt::new(E::SQL.retry_wait)
        .bind(job_id)
        .bind(scheduled_at_ms)
        .bind(attempt)
        .scalar_optional(engine.on())
        .await?;
    Ok(due_in.map_or(RetryWait::Gone, RetryWait::DueIn))
}

pub(super) async fn owned<E: SqlEngine>(
    engine: &E,
    instance: &str,
) -> Result<Vec<PendingRetry>, StoreError> {
    let rows: Vec<RetryRow> = Stmt::new(E::SQL.owned_retries)
        .bind(instance)
        .fetch_all(engine.on())
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(job_id, scheduled_at_ms, attempt, due_at_ms, catch_up, manual)| PendingRetry {
                job_id,
                scheduled_at_ms,
                attempt,
                due_at_ms,
                catch_up,
                manual,
            },
        )
        .collect())
}

pub(super) async fn drop_one<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    scheduled_at_ms: i64,
    attempt: i32,
) -> Result<bool, StoreError> {
    let dropped = Stmt::new(E::SQL.consume_retry)
        .bind(job_id)
        .bind(scheduled_at_ms)
        .bind(attempt)
        .execute(engine.on())
        .await?;
    Ok(dropped > 0)
}

pub(super) async fn last_success<E: SqlEngine>(
    engine: &E,
    job_id: &str,
) -> Result<Option<i64>, StoreError> {
    let at: Option<i64> = Stmt::new(E::SQL.last_success)
        .bind(job_id)
        .scalar(engine.on())
        .await?;
    Ok(at)
}

pub(super) async fn mark_stale<E: SqlEngine>(engine: &E, job_id: &str) -> Result<bool, StoreError> {
    let marked = Stmt::new(E::SQL.mark_stale)
        .bind(job_id)
        .execute(engine.on())
        .await?;
    Ok(marked > 0)
}

pub(super) async fn clear_stale<E: SqlEngine>(
    engine: &E,
    job_id: &str,
) -> Result<bool, StoreError> {
    let cleared = Stmt::new(E::SQL.clear_stale)
        .bind(job_id)
        .execute(engine.on())
        .await?;
    Ok(cleared > 0)
}

pub(super) async fn stale_jobs<E: SqlEngine>(engine: &E) -> Result<Vec<String>, StoreError> {
    Ok(Stmt::new(E::SQL.stale_jobs).scalars(engine.on()).await?)
}
