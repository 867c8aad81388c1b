//! Plugin state on SQLite.

use sqlx::SqlitePool;

use crate::store::driver::StateWrite;
use crate::store::error::StoreError;

/// Stores `$3` under `$2` for job `$1` if `$4` owns it under epoch `$5`.
const SET: &str = concat!(
    "INSERT INTO job_state (job_id, key, value, updated_at_ms) SELECT j.id, $2, $3, ",
    now_ms!(),
    " FROM jobs j WHERE j.id = $1 AND j.owner = $4 AND j.epoch = $5 \
     ON CONFLICT (job_id, key) DO UPDATE SET value = excluded.value, \
     updated_at_ms = excluded.updated_at_ms"
);

pub(super) async fn get(
    pool: &SqlitePool,
    job_id: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM job_state WHERE job_id = $1 AND key = $2")
            .bind(job_id)
            .bind(key)
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn set(pool: &SqlitePool, write: StateWrite<'_>) -> Result<bool, StoreError> {
    let done = sqlx::query(SET)
        .bind(write.job_id)
        .bind(write.key)
        .bind(write.value)
        .bind(write.instance)
        .bind(write.epoch)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn keys(pool: &SqlitePool, job_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT key FROM job_state WHERE job_id = $1 ORDER BY key")
            .bind(job_id)
            .fetch_all(pool)
            .await?,
    )
}
