//! What housekeeping deletes by age.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;
use crate::store::model::RunStatus;

pub(super) async fn delete_runs<E: SqlEngine>(
    engine: &E,
    cutoff_ms: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.delete_runs)
        .bind(cutoff_ms)
        .bind(batch)
        .execute(engine.on())
        .await?)
}

/// One job's runs past a count: those with a status of `statuses` older than the job's
/// `keep`-th newest of them, and more than `lookback_ms` below its newest non-manual tick.
/// Both bounds are read first, each from the job's newest run down through its `(job, tick)`
/// index, and the delete then reads only what it deletes: a pass costs each job about
/// `keep` rows plus what goes, not its whole history. (A window over every run took 2 µs a
/// run on PostgreSQL and 10 on MariaDB each pass, past the statement limit at tens of
/// millions of runs; bounds in subqueries of the delete left MariaDB reading every run of
/// the job.) Runs recorded meanwhile are newer than both bounds. Every attempt of the
/// `keep`-th newest tick stays.
pub(super) async fn delete_job_runs_over<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    statuses: &[RunStatus],
    keep: i64,
    lookback_ms: i64,
) -> Result<u64, StoreError> {
    // The status test is an expression no index serves, so every engine reads the job's
    // runs through its `(job, tick)` index: the index on `(status, tick)` looked cheaper to
    // PostgreSQL before its statistics caught up and to SQLite (no statistics), and read
    // every run of the status (6–19 ms a job at 300,000 runs).
    let of_statuses = |mut stmt: Stmt<E::Db>| {
        stmt = stmt.push(" AND CASE WHEN status IN (");
        for (i, status) in statuses.iter().enumerate() {
            stmt = stmt
                .push(if i == 0 { "" } else { ", " })
                .push_bind(status.as_str());
        }
        stmt.push(") THEN 1 ELSE 0 END = 1")
    };
    let Some(newest) = Stmt::<E::Db>::new("SELECT scheduled_at_ms FROM runs WHERE job_id = ")
        .push_bind(job_id)
        .push(" AND manual = ")
        .push_bind(false)
        .push(" ORDER BY scheduled_at_ms DESC LIMIT 1")
        .scalar_optional::<i64>(engine.on())
        .await?
    else {
        return Ok(0);
    };
    let kth =
        Stmt::<E::Db>::new("SELECT scheduled_at_ms FROM runs WHERE job_id = ").push_bind(job_id);
    let Some(kth) = of_statuses(kth)
        .push(" ORDER BY scheduled_at_ms DESC LIMIT 1 OFFSET ")
        .push_bind(keep - 1)
        .scalar_optional::<i64>(engine.on())
        .await?
    else {
        return Ok(0);
    };
    let before = kth.min(newest - lookback_ms);
    let delete = Stmt::<E::Db>::new("DELETE FROM runs WHERE job_id = ").push_bind(job_id);
    Ok(of_statuses(delete)
        .push(" AND scheduled_at_ms < ")
        .push_bind(before)
        .execute(engine.on())
        .await?)
}

pub(super) async fn prune_events<E: SqlEngine>(
    engine: &E,
    cutoff_ms: i64,
    keep: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.prune_events)
        .bind(cutoff_ms)
        .bind(keep)
        .execute(engine.on())
        .await?)
}

pub(super) async fn expire_triggers<E: SqlEngine>(
    engine: &E,
    cutoff_ms: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.expire_triggers)
        .bind(cutoff_ms)
        .execute(engine.on())
        .await?)
}

pub(super) async fn delete_stale_instances<E: SqlEngine>(
    engine: &E,
    stale_after_ms: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.delete_stale_instances)
        .bind(stale_after_ms)
        .execute(engine.on())
        .await?)
}
