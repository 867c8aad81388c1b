//! Small key/value state that plugins keep between runs, written only by the job's owner.

use super::Store;
use super::driver::StateWrite;
use super::error::StoreError;

impl Store {
    /// The value stored under `key` for job `job_id`.
    pub async fn state_get(&self, job_id: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bounded(self.driver.state_get(job_id, key)).await
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
        let write = StateWrite {
            job_id,
            key,
            value,
            instance,
            epoch,
        };
        self.bounded(self.driver.state_set(write)).await
    }

    /// Every key of job `job_id`'s state, sorted.
    pub async fn state_keys(&self, job_id: &str) -> Result<Vec<String>, StoreError> {
        self.bounded(self.driver.state_keys(job_id)).await
    }
}
