//! Retention: what housekeeping deletes by age (finished runs, events, expired manual
//! triggers, instances long gone).

use super::Store;
use super::error::StoreError;
use super::model::RunStatus;
use super::takeover::HOLE_LOOKBACK_MS;

/// Most runs one retention statement deletes.
pub const RETENTION_BATCH: i64 = 5_000;

/// Jobs read at a time by a pass of the per-job history limits.
const LIMITS_PAGE: i64 = 500;

impl Store {
    /// Retention: deletes the finished runs scheduled before `cutoff_ms`, always keeping each
    /// job's newest scheduled (non-manual) run so the catch-up cursor survives. Works in
    /// batches of [`RETENTION_BATCH`] rows so no statement holds locks for long; returns how
    /// many were deleted.
    pub async fn delete_runs_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = self
                .bounded(self.driver.delete_runs_batch(cutoff_ms, RETENTION_BATCH))
                .await?;
            total += deleted;
            if deleted < RETENTION_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Per-job history limits: deletes the runs with a status of `statuses` beyond each
    /// job's newest `keep` of them — never one within [`HOLE_LOOKBACK_MS`] of its job's
    /// newest tick, which a takeover reads to find unrecorded ticks. Job by job, in pages of
    /// [`LIMITS_PAGE`] jobs, each job one short statement through its `(job, tick)` index;
    /// returns how many.
    pub async fn delete_runs_over(
        &self,
        statuses: &[RunStatus],
        keep: u32,
    ) -> Result<u64, StoreError> {
        let keep = i64::from(keep.max(1));
        let mut total = 0;
        let mut pages = self.job_pages(LIMITS_PAGE);
        while let Some(jobs) = pages.next().await? {
            for job in &jobs {
                total += self
                    .bounded(self.driver.delete_job_runs_over(
                        &job.id,
                        statuses,
                        keep,
                        HOLE_LOOKBACK_MS,
                    ))
                    .await?;
            }
        }
        Ok(total)
    }

    /// Deletes events older than `cutoff_ms`, and all but the newest `keep`; returns how many.
    pub async fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Result<u64, StoreError> {
        self.bounded(self.driver.prune_events(cutoff_ms, keep))
            .await
    }

    /// Removes triggers older than `cutoff_ms` that no owner took; returns how many.
    pub async fn expire_triggers(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.bounded(self.driver.expire_triggers(cutoff_ms)).await
    }

    /// Deletes instance rows that have not heartbeat for `stale_after_ms` and own no job;
    /// returns how many.
    pub async fn delete_stale_instances(&self, stale_after_ms: i64) -> Result<u64, StoreError> {
        self.bounded(self.driver.delete_stale_instances(stale_after_ms))
            .await
    }
}
