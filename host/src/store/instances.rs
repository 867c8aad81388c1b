//! Replicas (instances) and job ownership.
//!
//! An instance is live while it heartbeats within `dead_after_ms` (measured by the database
//! clock) and has not left. Each job has at most one owner; every change of owner bumps the
//! job's `epoch`, which fences whatever the previous owner still tries to write.

use super::Store;
use super::error::StoreError;
use super::model::{Instance, Job};
use super::rows::{InstanceRow, JobRow, jobs_from_rows};

impl Store {
    /// Registers or refreshes instance `id` (an upsert: an instance that was declared dead or
    /// had left is registered again) and returns the database time of the heartbeat.
    pub async fn heartbeat(
        &self,
        id: &str,
        address: &str,
        version: &str,
    ) -> Result<i64, StoreError> {
        let upsert = sql!(
            "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms) \
             SELECT $1, $2, $3, t.ms, t.ms, NULL FROM (SELECT ",
            now,
            " AS ms) t WHERE true \
             ON CONFLICT (id) DO UPDATE SET address = excluded.address, \
             version = excluded.version, heartbeat_at_ms = excluded.heartbeat_at_ms, \
             started_at_ms = CASE WHEN instances.left_at_ms IS NULL \
                 THEN instances.started_at_ms ELSE excluded.started_at_ms END, \
             left_at_ms = NULL \
             RETURNING heartbeat_at_ms"
        );
        on_pool!(self, |pool, backend| {
            Ok(sqlx::query_scalar(upsert.get(backend))
                .bind(id)
                .bind(address)
                .bind(version)
                .fetch_one(pool)
                .await?)
        })
    }

    /// Marks instance `id` as gone (graceful shutdown); it is no longer live.
    pub async fn leave(&self, id: &str) -> Result<(), StoreError> {
        let update = sql!("UPDATE instances SET left_at_ms = ", now, " WHERE id = $1");
        on_pool!(self, |pool, backend| {
            sqlx::query(update.get(backend))
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Instances that heartbeat within the last `dead_after_ms` and have not left, by id.
    pub async fn live_instances(&self, dead_after_ms: i64) -> Result<Vec<Instance>, StoreError> {
        let select = sql!(
            "SELECT ",
            instance_columns,
            " FROM instances WHERE left_at_ms IS NULL AND heartbeat_at_ms >= ",
            now,
            " - $1 ORDER BY id"
        );
        on_pool!(self, |pool, backend| {
            let rows: Vec<InstanceRow> = sqlx::query_as(select.get(backend))
                .bind(dead_after_ms)
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(Instance::from).collect())
        })
    }

    /// Every registered instance, live or not, by id.
    pub async fn all_instances(&self) -> Result<Vec<Instance>, StoreError> {
        let select = sql!("SELECT ", instance_columns, " FROM instances ORDER BY id");
        on_pool!(self, |pool, backend| {
            let rows: Vec<InstanceRow> =
                sqlx::query_as(select.get(backend)).fetch_all(pool).await?;
            Ok(rows.into_iter().map(Instance::from).collect())
        })
    }

    /// Atomically takes ownership, for `instance`, of every job that has no owner or whose
    /// owner is not live (no heartbeat within `dead_after_ms`, or left). Each claimed job's
    /// epoch is bumped; the claimed jobs are returned by name.
    pub async fn claim_jobs(
        &self,
        instance: &str,
        dead_after_ms: i64,
    ) -> Result<Vec<Job>, StoreError> {
        self.claim_jobs_limited(instance, dead_after_ms, None).await
    }

    /// [`Store::claim_jobs`] taking at most `limit` jobs (in name order), for replicas that
    /// claim only their fair share. On PostgreSQL, jobs locked by a concurrent claim are
    /// skipped, not waited for.
    pub async fn claim_jobs_limited(
        &self,
        instance: &str,
        dead_after_ms: i64,
        limit: Option<i64>,
    ) -> Result<Vec<Job>, StoreError> {
        let claim = sql!(
            "UPDATE jobs SET owner = $1, epoch = epoch + 1 WHERE id IN ( \
               SELECT j.id FROM jobs j WHERE j.owner IS NULL OR (j.owner <> $1 AND NOT EXISTS ( \
                 SELECT 1 FROM instances i WHERE i.id = j.owner AND i.left_at_ms IS NULL \
                 AND i.heartbeat_at_ms >= ",
            now,
            " - $2)) ORDER BY j.name LIMIT $3",
            pg_for_update_skip_locked,
            ") RETURNING ",
            job_columns
        );
        let limit = limit.unwrap_or(i64::MAX).max(0);
        on_pool!(self, |pool, backend| {
            let rows: Vec<JobRow> = sqlx::query_as(claim.get(backend))
                .bind(instance)
                .bind(dead_after_ms)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut jobs = jobs_from_rows(rows)?;
            jobs.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(jobs)
        })
    }

    /// Gives up every job `instance` owns (owner cleared, epoch bumped), for a graceful
    /// shutdown; returns how many.
    pub async fn release_jobs(&self, instance: &str) -> Result<u64, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done =
                sqlx::query("UPDATE jobs SET owner = NULL, epoch = epoch + 1 WHERE owner = $1")
                    .bind(instance)
                    .execute(pool)
                    .await?;
            Ok(done.rows_affected())
        })
    }

    /// Gives up one job if `instance` still owns it under `epoch` (owner cleared, epoch
    /// bumped), so another replica can take it; false when it was not owned so.
    pub async fn release_job(
        &self,
        job_id: &str,
        instance: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done = sqlx::query(
                "UPDATE jobs SET owner = NULL, epoch = epoch + 1 \
                 WHERE id = $1 AND owner = $2 AND epoch = $3",
            )
            .bind(job_id)
            .bind(instance)
            .bind(epoch)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Every job `instance` owns, by name.
    pub async fn list_owned_jobs(&self, instance: &str) -> Result<Vec<Job>, StoreError> {
        let select = sql!(
            "SELECT ",
            job_columns,
            " FROM jobs WHERE owner = $1 ORDER BY name"
        );
        on_pool!(self, |pool, backend| {
            let rows: Vec<JobRow> = sqlx::query_as(select.get(backend))
                .bind(instance)
                .fetch_all(pool)
                .await?;
            jobs_from_rows(rows)
        })
    }

    /// `(id, version, epoch)` of every job `instance` owns, by id: a cheap way to notice edits
    /// and ownership changes before reloading whole jobs.
    pub async fn owned_job_versions(
        &self,
        instance: &str,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(
                sqlx::query_as("SELECT id, version, epoch FROM jobs WHERE owner = $1 ORDER BY id")
                    .bind(instance)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// `(instance id, number of jobs it owns)` for every instance that owns at least one job,
    /// by instance id.
    pub async fn owned_job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(sqlx::query_as(
                "SELECT owner, COUNT(*) FROM jobs WHERE owner IS NOT NULL \
                 GROUP BY owner ORDER BY owner",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
