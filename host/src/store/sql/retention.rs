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

/// Runs past a per-job count: numbered newest first per job among those of `statuses`; the
/// ones numbered above `keep` that lie more than `lookback_ms` below their job's newest
/// non-manual tick go, at most `batch` of them. Plain SQL every engine reads alike (window
/// functions: SQLite 3.25, PostgreSQL, MariaDB 10.2). One pass of window functions over the
/// runs, the job's newest tick among them: joined to a grouped table instead, MariaDB found
/// no key to join by and compared every run with every job (2 s at 30,000 runs of 2,000
/// jobs, past the statement time limit at 150,000 of 10,000).
pub(super) async fn delete_runs_over<E: SqlEngine>(
    engine: &E,
    statuses: &[RunStatus],
    keep: i64,
    lookback_ms: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let among = |mut stmt: Stmt<E::Db>| {
        for (i, status) in statuses.iter().enumerate() {
            stmt = stmt
                .push(if i == 0 { "" } else { ", " })
                .push_bind(status.as_str());
        }
        stmt.push(")")
    };
    let (open, close) = E::SQL.delete_runs_among;
    let stmt = Stmt::<E::Db>::new(open).push(
        "SELECT id FROM (SELECT id, status, scheduled_at_ms, ROW_NUMBER() OVER (\
         PARTITION BY job_id, CASE WHEN status IN (",
    );
    let stmt = among(stmt)
        .push(
            " THEN 1 ELSE 0 END ORDER BY scheduled_at_ms DESC, id DESC) AS newer, \
             MAX(CASE WHEN manual = ",
        )
        .push_bind(false)
        .push(
            " THEN scheduled_at_ms END) OVER (PARTITION BY job_id) AS last_ms \
             FROM runs) r WHERE status IN (",
        );
    Ok(among(stmt)
        .push(" AND newer > ")
        .push_bind(keep)
        .push(" AND scheduled_at_ms < last_ms - ")
        .push_bind(lookback_ms)
        .push(" LIMIT ")
        .push_bind(batch)
        .push(close)
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
