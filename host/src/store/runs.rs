//! Runs: the per-tick record that makes each tick run at most once.
//!
//! A tick is started by inserting its `(job_id, scheduled_at_ms)` row as `running`, in one
//! statement that also checks that the caller still owns the job under its epoch; the unique
//! key makes a second start of the same tick a no-op, wherever it comes from. Finishing,
//! recording skipped/missed ticks and abandoning are fenced the same way. Batch variants do a
//! whole batch in one statement or one transaction, as the engine does it best. This module
//! checks the inputs and bounds the text; the engine's driver writes.

use super::Store;
use super::driver::FinishRow;
use super::error::StoreError;
use super::model::{BeginRun, FinishRun, Finished, NewRun, RunReason, RunStatus};
use super::text::{ERROR_LIMIT_BYTES, LOGS_LIMIT_BYTES, RESULT_LIMIT_BYTES, bounded};

/// A finish checked (final status) and with its text fields bounded.
pub(super) fn bounded_finish(
    run_id: i64,
    epoch: i64,
    finish: &FinishRun,
) -> Result<FinishRow, StoreError> {
    if !finish.status.is_final() {
        return Err(StoreError::InvalidInput(format!(
            "run {run_id} cannot finish with status {}",
            finish.status
        )));
    }
    Ok(FinishRow {
        run_id,
        epoch,
        status: finish.status,
        result: bounded(finish.result.as_deref(), RESULT_LIMIT_BYTES),
        error: bounded(finish.error.as_deref(), ERROR_LIMIT_BYTES),
        logs: bounded(finish.logs.as_deref(), LOGS_LIMIT_BYTES),
    })
}

impl Store {
    /// Starts one tick with a single insert; see [`BeginRun`]. The start time is the
    /// database's. When nothing was inserted, one more query tells an already recorded tick
    /// from a lost ownership.
    pub async fn begin_run(&self, run: &NewRun) -> Result<BeginRun, StoreError> {
        self.bounded(self.driver.begin_run(run)).await
    }

    /// Starts a batch of ticks at once, with the same per-tick guarantee as
    /// [`Store::begin_run`]; the answers are in the order of `runs`. A tick listed twice is
    /// started once (the second answer is [`BeginRun::AlreadyRecorded`]).
    pub async fn begin_runs(&self, runs: &[NewRun]) -> Result<Vec<BeginRun>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        self.bounded(self.driver.begin_runs(runs)).await
    }

    /// Records the end of run `run_id`, started under `epoch`: only if the run is still
    /// `running` and the job's epoch is still `epoch`. Finish and duration times are the
    /// database's; result and error are cut to 4 KiB, logs to 64 KiB.
    pub async fn finish_run(
        &self,
        run_id: i64,
        epoch: i64,
        finish: &FinishRun,
    ) -> Result<Finished, StoreError> {
        let finish = bounded_finish(run_id, epoch, finish)?;
        self.bounded(self.driver.finish_run(&finish)).await
    }

    /// Records the ends of a batch of runs at once, each as [`Store::finish_run`] would; the
    /// answers are in the order of `finishes`.
    pub async fn finish_runs(
        &self,
        finishes: &[(i64, i64, FinishRun)],
    ) -> Result<Vec<Finished>, StoreError> {
        if finishes.is_empty() {
            return Ok(Vec::new());
        }
        let bounded: Vec<FinishRow> = finishes
            .iter()
            .map(|(run_id, epoch, finish)| bounded_finish(*run_id, *epoch, finish))
            .collect::<Result<_, _>>()?;
        self.bounded(self.driver.finish_runs(&bounded)).await
    }

    /// Records ticks that were not run, `(scheduled_at_ms, skipped|missed, reason)`, for job
    /// `job_id` in one statement, if `instance` still owns it under `epoch`. Ticks that already
    /// have a record are left alone. False (nothing written) when the caller was fenced.
    pub async fn record_ticks(
        &self,
        job_id: &str,
        instance: &str,
        epoch: i64,
        ticks: &[(i64, RunStatus, RunReason)],
    ) -> Result<bool, StoreError> {
        if let Some((_, status, _)) = ticks
            .iter()
            .find(|(_, status, _)| !matches!(status, RunStatus::Skipped | RunStatus::Missed))
        {
            return Err(StoreError::InvalidInput(format!(
                "a tick that was not run is skipped or missed, not {status}"
            )));
        }
        self.bounded(self.driver.record_ticks(job_id, instance, epoch, ticks))
            .await
    }

    /// Marks the runs of job `job_id` still `running` under an epoch older than `epoch` as
    /// `failed` (reason `abandoned`): their owner lost the job mid-run. Called by the new
    /// owner on takeover; returns how many.
    pub async fn abandon_runs(&self, job_id: &str, epoch: i64) -> Result<u64, StoreError> {
        self.bounded(self.driver.abandon_runs(job_id, epoch)).await
    }
}
