//! Reading runs: one, a filtered page, a job's catch-up cursor, whether a tick is recorded.

use super::Store;
use super::error::StoreError;
use super::model::{Run, RunFilter, RunPage};

impl Store {
    /// The newest scheduled tick of job `job_id` that has a record, manual runs aside. The
    /// catch-up cursor of a job is the later of this and its anchor.
    pub async fn last_tick_ms(&self, job_id: &str) -> Result<Option<i64>, StoreError> {
        self.bounded(self.driver.last_tick_ms(job_id)).await
    }

    /// Whether the tick `scheduled_at_ms` of `job_id` has its row (run, or not run).
    pub async fn tick_recorded(
        &self,
        job_id: &str,
        scheduled_at_ms: i64,
    ) -> Result<bool, StoreError> {
        self.bounded(self.driver.tick_recorded(job_id, scheduled_at_ms))
            .await
    }

    /// Number of runs of `job_id` still `running`.
    pub async fn running_count(&self, job_id: &str) -> Result<i64, StoreError> {
        self.bounded(self.driver.running_count(job_id)).await
    }

    /// One run by id.
    pub async fn get_run(&self, run_id: i64) -> Result<Option<Run>, StoreError> {
        self.bounded(self.driver.get_run(run_id)).await
    }

    /// Runs matching `filter`, newest tick first, one keyset page at a time.
    pub async fn list_runs(
        &self,
        filter: &RunFilter,
        page: &RunPage,
    ) -> Result<Vec<Run>, StoreError> {
        self.bounded(self.driver.list_runs(filter, page)).await
    }
}
