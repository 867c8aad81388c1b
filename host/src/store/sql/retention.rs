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
/// functions: SQLite 3.25, PostgreSQL, MariaDB 10.2); the doubly derived table lets MySQL
/// and MariaDB delete from the table they read.
pub(super) async fn delete_runs_over<E: SqlEngine>(
    engine: &E,
    statuses: &[RunStatus],
    keep: i64,
    lookback_ms: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let mut stmt = Stmt::<E::Db>::new(
        "DELETE FROM runs WHERE id IN (SELECT id FROM (SELECT r.id FROM (\
         SELECT id, job_id, scheduled_at_ms, ROW_NUMBER() OVER (PARTITION BY job_id \
         ORDER BY scheduled_at_ms DESC, id DESC) AS newer FROM runs WHERE status IN (",
    );
    for (i, status) in statuses.iter().enumerate() {
        stmt = stmt
            .push(if i == 0 { "" } else { ", " })
            .push_bind(status.as_str());
    }
    Ok(stmt
        .push(
            ")) r JOIN (SELECT job_id, MAX(scheduled_at_ms) AS last_ms FROM runs \
             WHERE manual = ",
        )
        .push_bind(false)
        .push(" GROUP BY job_id) l ON l.job_id = r.job_id WHERE r.newer > ")
        .push_bind(keep)
        .push(" AND r.scheduled_at_ms < l.last_ms - ")
        .push_bind(lookback_ms)
        .push(" LIMIT ")
        .push_bind(batch)
        .push(") doomed)")
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
