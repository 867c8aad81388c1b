//! What housekeeping deletes by age, on SQLite.

use sqlx::SqlitePool;

use crate::store::error::StoreError;

/// At most `$2` finished runs scheduled before `$1`, never a job's newest non-manual run.
const DELETE_RUNS: &str = "DELETE FROM runs WHERE id IN ( \
     SELECT r.id FROM runs r WHERE r.scheduled_at_ms < $1 AND r.status <> 'running' \
     AND (r.manual OR EXISTS (SELECT 1 FROM runs n WHERE n.job_id = r.job_id \
          AND NOT n.manual AND n.scheduled_at_ms > r.scheduled_at_ms)) \
     LIMIT $2)";

const DELETE_STALE_INSTANCES: &str = concat!(
    "DELETE FROM instances WHERE heartbeat_at_ms < ",
    now_ms!(),
    " - $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.owner = instances.id)"
);

pub(super) async fn delete_runs(
    pool: &SqlitePool,
    cutoff_ms: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(DELETE_RUNS)
        .bind(cutoff_ms)
        .bind(batch)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn prune_events(
    pool: &SqlitePool,
    cutoff_ms: i64,
    keep: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM events WHERE at_ms < $1 \
         OR id <= (SELECT COALESCE(MAX(id), 0) FROM events) - $2",
    )
    .bind(cutoff_ms)
    .bind(keep)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn expire_triggers(pool: &SqlitePool, cutoff_ms: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM manual_triggers WHERE scheduled_at_ms < $1")
        .bind(cutoff_ms)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn delete_stale_instances(
    pool: &SqlitePool,
    stale_after_ms: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(DELETE_STALE_INSTANCES)
        .bind(stale_after_ms)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
