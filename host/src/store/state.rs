//! Small key/value state that plugins keep between runs, written only by the job's owner.

use super::Store;
use super::error::StoreError;

impl Store {
    /// The value stored under `key` for job `job_id`.
    pub async fn state_get(&self, job_id: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(
                sqlx::query_scalar("SELECT value FROM job_state WHERE job_id = $1 AND key = $2")
                    .bind(job_id)
                    .bind(key)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Stores `value` under `key` for job `job_id`, in one statement that checks that
    /// `instance` still owns the job under `epoch`. False (nothing written) when it does not:
    /// the caller was fenced.
    pub async fn state_set(
        &self,
        job_id: &str,
        key: &str,
        value: &[u8],
        instance: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        let upsert = sql!(
            "INSERT INTO job_state (job_id, key, value, updated_at_ms) SELECT j.id, $2, $3, ",
            now,
            " FROM jobs j WHERE j.id = $1 AND j.owner = $4 AND j.epoch = $5",
            pg_for_share_of_j,
            " ON CONFLICT (job_id, key) DO UPDATE SET value = excluded.value, \
             updated_at_ms = excluded.updated_at_ms"
        );
        on_pool!(self, |pool, backend| {
            let done = sqlx::query(upsert.get(backend))
                .bind(job_id)
                .bind(key)
                .bind(value)
                .bind(instance)
                .bind(epoch)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Every key of job `job_id`'s state, sorted.
    pub async fn state_keys(&self, job_id: &str) -> Result<Vec<String>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(
                sqlx::query_scalar("SELECT key FROM job_state WHERE job_id = $1 ORDER BY key")
                    .bind(job_id)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }
}
