//! The run lifecycle: begin, finish, record ticks that were not run, abandon. A batch is one
//! write transaction of single-tick statements, which is what an engine without bulk
//! statements can do (on SQLite, which locks the whole database for a write anyway, the
//! transaction is what saves the commits); an engine with them replaces the batch operations.

use super::db::Held;
use super::{On, SqlEngine, Stmt};
use crate::store::driver::{ABANDONED_ERROR, FinishRow};
use crate::store::error::StoreError;
use crate::store::model::{BeginRun, Finished, NewRun, RunReason, RunStatus};

/// A held connection of engine `E`.
type Conn<'c, E> = Held<'c, <E as SqlEngine>::Db>;

/// One insert; when nothing was inserted, one more query tells an already recorded tick from
/// a lost ownership.
async fn begin_on<E: SqlEngine>(
    conn: &mut Conn<'_, E>,
    run: &NewRun,
) -> Result<BeginRun, StoreError> {
    let started: Option<i64> = begin_run_stmt::<E>(run).scalar_optional(conn.on()).await?;
    if let Some(id) = started {
        return Ok(BeginRun::Started(id));
    }
    Ok(
        if tick_recorded::<E>(conn.on(), &run.job_id, run.scheduled_at_ms).await? {
            BeginRun::AlreadyRecorded
        } else {
            BeginRun::Fenced
        },
    )
}

/// The catalogue's `begin_run` with its parameters bound.
pub(crate) fn begin_run_stmt<E: SqlEngine>(run: &NewRun) -> Stmt<E::Db> {
    Stmt::new(E::SQL.begin_run)
        .bind(run.scheduled_at_ms)
        .bind(run.attempt)
        .bind(run.catch_up)
        .bind(run.manual)
        .bind(run.plugin_digest.as_deref())
        .bind(run.job_id.as_str())
        .bind(run.instance_id.as_str())
        .bind(run.epoch)
}

/// Whether a tick has its row.
pub(crate) async fn tick_recorded<'c, E: SqlEngine>(
    on: impl Into<On<'c, E::Db>>,
    job_id: &str,
    scheduled_at_ms: i64,
) -> Result<bool, StoreError> {
    let recorded: i64 = Stmt::new(E::SQL.tick_recorded)
        .bind(job_id)
        .bind(scheduled_at_ms)
        .scalar(on)
        .await?;
    Ok(recorded > 0)
}

pub(super) async fn begin<E: SqlEngine>(engine: &E, run: &NewRun) -> Result<BeginRun, StoreError> {
    if engine.statement_begin().is_none() {
        let mut conn = engine.pool().acquire().await?;
        return begin_on::<E>(&mut engine.held(&mut conn), run).await;
    }
    let mut tx = engine.begin_write().await?;
    let answer = begin_on::<E>(&mut engine.held(&mut tx), run).await?;
    tx.commit().await?;
    Ok(answer)
}

pub(super) async fn begin_many<E: SqlEngine>(
    engine: &E,
    runs: &[NewRun],
) -> Result<Vec<BeginRun>, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let mut answers = Vec::with_capacity(runs.len());
    for run in runs {
        answers.push(begin_on::<E>(&mut held, run).await?);
    }
    tx.commit().await?;
    Ok(answers)
}

pub(super) async fn finish_on<E: SqlEngine>(
    conn: &mut Conn<'_, E>,
    finish: &FinishRow,
) -> Result<Finished, StoreError> {
    let finished = Stmt::<E::Db>::new(E::SQL.finish_run)
        .bind(finish.status.as_str())
        .bind(finish.result.as_deref())
        .bind(finish.error.as_deref())
        .bind(finish.logs.as_deref())
        .bind(finish.run_id)
        .bind(finish.epoch)
        .execute(conn.on())
        .await?;
    Ok(if finished > 0 {
        Finished::Ok
    } else {
        Finished::Fenced
    })
}

pub(super) async fn finish<E: SqlEngine>(
    engine: &E,
    finish: &FinishRow,
) -> Result<Finished, StoreError> {
    if engine.statement_begin().is_none() {
        let mut conn = engine.pool().acquire().await?;
        return finish_on::<E>(&mut engine.held(&mut conn), finish).await;
    }
    let mut tx = engine.begin_write().await?;
    let answer = finish_on::<E>(&mut engine.held(&mut tx), finish).await?;
    tx.commit().await?;
    Ok(answer)
}

pub(super) async fn finish_many<E: SqlEngine>(
    engine: &E,
    finishes: &[FinishRow],
) -> Result<Vec<Finished>, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let mut answers = Vec::with_capacity(finishes.len());
    for finish in finishes {
        answers.push(finish_on::<E>(&mut held, finish).await?);
    }
    tx.commit().await?;
    Ok(answers)
}

/// Whether `instance` owns the job under `epoch`.
pub(crate) async fn owns<'c, E: SqlEngine>(
    on: impl Into<On<'c, E::Db>>,
    job_id: &str,
    instance: &str,
    epoch: i64,
) -> Result<bool, StoreError> {
    let owns: i64 = Stmt::new(E::SQL.owns_job)
        .bind(job_id)
        .bind(instance)
        .bind(epoch)
        .scalar(on)
        .await?;
    Ok(owns > 0)
}

/// Checks ownership and records the ticks in one write transaction.
pub(super) async fn record_ticks<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    instance: &str,
    epoch: i64,
    ticks: &[(i64, RunStatus, RunReason)],
) -> Result<bool, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    if !owns::<E>(held.on(), job_id, instance, epoch).await? {
        return Ok(false);
    }
    for (scheduled_at_ms, status, reason) in ticks {
        Stmt::<E::Db>::new(E::SQL.record_tick)
            .bind(job_id)
            .bind(*scheduled_at_ms)
            .bind(status.as_str())
            .bind(reason.as_str())
            .bind(instance)
            .bind(epoch)
            .execute(held.on())
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn abandon<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    epoch: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.abandon_runs)
        .bind(RunReason::Abandoned.as_str())
        .bind(ABANDONED_ERROR)
        .bind(job_id)
        .bind(epoch)
        .execute(engine.on())
        .await?)
}
