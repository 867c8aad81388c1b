//! Retries of failed runs, and what tells a job's health (its last success, its stale mark).
//!
//! Retries: the next attempt of a tick is planned in the transaction that
//! records the failure of the attempt before it, due at an instant of the database clock, and
//! consumed by the transaction that records its start. Every write is fenced by the job's
//! owner and epoch, as the run lifecycle is; a planned attempt belongs to the job, so whoever
//! owns the job next (after a crash, a handoff, a shutdown) finds it.

use super::Store;
use super::error::StoreError;
use super::failure::{PendingRetry, RetryWait};
use super::model::{BeginRun, FinishRun, Finished, NewRun};
use super::runs::bounded_finish;

impl Store {
    /// [`Store::finish_run`], planning the run's next attempt due `delay_ms` from now (database
    /// clock) in the same transaction when the run was finished. Nothing is planned when the
    /// caller was fenced.
    pub async fn finish_and_plan_retry(
        &self,
        run_id: i64,
        epoch: i64,
        finish: &FinishRun,
        delay_ms: i64,
    ) -> Result<Finished, StoreError> {
        let finish = bounded_finish(run_id, epoch, finish)?;
        self.bounded(self.driver.finish_and_plan(&finish, delay_ms.max(0)))
            .await
    }

    /// Starts the planned attempt `run.attempt` (from 2) of a tick: consumes the plan and
    /// records the attempt `running`, if the caller owns the job under `run.epoch`.
    /// [`BeginRun::AlreadyRecorded`] when the attempt is not planned (it ran, or a pause, an
    /// edit of the schedule or a delete dropped it): do not run it.
    pub async fn begin_attempt(&self, run: &NewRun) -> Result<BeginRun, StoreError> {
        if run.attempt < 2 {
            return Err(StoreError::InvalidInput(format!(
                "attempt {} is not a retry: a tick's first attempt starts with begin_run",
                run.attempt
            )));
        }
        self.bounded(self.driver.begin_attempt(run)).await
    }

    /// When the planned attempt `attempt` of a tick is due, by the database clock.
    pub async fn retry_wait(
        &self,
        job_id: &str,
        scheduled_at_ms: i64,
        attempt: i32,
    ) -> Result<RetryWait, StoreError> {
        self.bounded(self.driver.retry_wait(job_id, scheduled_at_ms, attempt))
            .await
    }

    /// Up to 1000 planned attempts of the jobs `instance` owns, the earliest due first.
    pub async fn owned_retries(&self, instance: &str) -> Result<Vec<PendingRetry>, StoreError> {
        self.bounded(self.driver.owned_retries(instance)).await
    }

    /// Drops one planned attempt (the misfire policy did not run it); false when it was not
    /// planned.
    pub async fn drop_retry(
        &self,
        job_id: &str,
        scheduled_at_ms: i64,
        attempt: i32,
    ) -> Result<bool, StoreError> {
        self.bounded(self.driver.drop_retry(job_id, scheduled_at_ms, attempt))
            .await
    }

    /// When the job's newest succeeded run finished (database clock).
    pub async fn last_success_ms(&self, job_id: &str) -> Result<Option<i64>, StoreError> {
        self.bounded(self.driver.last_success(job_id)).await
    }

    /// Marks a job stale since now, once: true only for the call that marked it.
    pub async fn mark_stale(&self, job_id: &str) -> Result<bool, StoreError> {
        self.bounded(self.driver.mark_stale(job_id)).await
    }

    /// Removes a job's stale mark: true only for the call that removed it.
    pub async fn clear_stale(&self, job_id: &str) -> Result<bool, StoreError> {
        self.bounded(self.driver.clear_stale(job_id)).await
    }

    /// The ids of the jobs marked stale, sorted.
    pub async fn stale_jobs(&self) -> Result<Vec<String>, StoreError> {
        self.bounded(self.driver.stale_jobs()).await
    }
}
