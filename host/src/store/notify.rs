//! Change notifications between replicas: a job written on one replica, a replica joining
//! and jobs handed over reach the others at once. Where the engine has none (SQLite: one
//! process), replicas notice through their periodic reconcile.

use super::Store;
use super::driver::ListenerDriver;
use super::error::StoreError;

/// Channel for job writes (create, edit, pause, resume, delete); the payload is the job id.
pub const JOBS_CHANNEL: &str = "wasmcron_jobs";
/// Channel for membership and ownership events (a replica joined, jobs handed over); the
/// payload names the replica concerned.
pub const CLUSTER_CHANNEL: &str = "wasmcron_cluster";
/// Channel for settings and API-token writes; every replica reloads its settings cache.
pub const SETTINGS_CHANNEL: &str = "wasmcron_settings";

/// A subscription to some of the channels.
pub struct ChangeListener {
    listener: Box<dyn ListenerDriver>,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeListener").finish_non_exhaustive()
    }
}

impl ChangeListener {
    /// The next notification as `(channel, payload)`. `None` when the connection was lost and
    /// re-established: notifications may have been missed, so the caller should reconcile.
    pub async fn next(&mut self) -> Result<Option<(String, String)>, StoreError> {
        self.listener.next().await
    }
}

impl Store {
    /// Tells every replica that job `job_id` changed (a no-op without notifications).
    pub async fn notify_job_changed(&self, job_id: &str) -> Result<(), StoreError> {
        self.notify(JOBS_CHANNEL, job_id).await
    }

    /// Tells every replica that membership or ownership changed for `instance`.
    pub async fn notify_cluster_changed(&self, instance: &str) -> Result<(), StoreError> {
        self.notify(CLUSTER_CHANNEL, instance).await
    }

    pub(super) async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        self.bounded(self.driver.notify(channel, payload)).await
    }

    /// Subscribes to the job and cluster channels; `None` without notifications.
    pub async fn listen(&self) -> Result<Option<ChangeListener>, StoreError> {
        self.listen_to(&[JOBS_CHANNEL, CLUSTER_CHANNEL]).await
    }

    /// Subscribes to the settings channel; `None` without notifications.
    pub async fn listen_settings(&self) -> Result<Option<ChangeListener>, StoreError> {
        self.listen_to(&[SETTINGS_CHANNEL]).await
    }

    pub(super) async fn listen_to(
        &self,
        channels: &[&str],
    ) -> Result<Option<ChangeListener>, StoreError> {
        let listener = self.bounded(self.driver.listen(channels)).await?;
        Ok(listener.map(|listener| ChangeListener { listener }))
    }
}
