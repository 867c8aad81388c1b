//! Change notifications between replicas (PostgreSQL `LISTEN`/`NOTIFY`): a job written on one
//! replica, a replica joining and jobs handed over reach the others at once. On SQLite there
//! are no notifications; replicas notice through their periodic reconcile.

use sqlx::postgres::PgListener;

use super::error::StoreError;
use super::{Pool, Store};

/// Channel for job writes (create, edit, pause, resume, delete); the payload is the job id.
pub const JOBS_CHANNEL: &str = "wasmcron_jobs";
/// Channel for membership and ownership events (a replica joined, jobs handed over); the
/// payload names the replica concerned.
pub const CLUSTER_CHANNEL: &str = "wasmcron_cluster";
/// Channel for settings and API-token writes; every replica reloads its settings cache.
pub const SETTINGS_CHANNEL: &str = "wasmcron_settings";

/// A subscription to some of the channels.
pub struct ChangeListener {
    listener: PgListener,
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
        Ok(self
            .listener
            .try_recv()
            .await?
            .map(|n| (n.channel().to_owned(), n.payload().to_owned())))
    }
}

impl Store {
    /// Tells every replica that job `job_id` changed (PostgreSQL; a no-op on SQLite).
    pub async fn notify_job_changed(&self, job_id: &str) -> Result<(), StoreError> {
        self.notify(JOBS_CHANNEL, job_id).await
    }

    /// Tells every replica that membership or ownership changed for `instance`.
    pub async fn notify_cluster_changed(&self, instance: &str) -> Result<(), StoreError> {
        self.notify(CLUSTER_CHANNEL, instance).await
    }

    pub(super) async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        self.bounded(async {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(pool)
                .await?;
            Ok(())
        })
        .await
    }

    /// Subscribes to the job and cluster channels (PostgreSQL); `None` on SQLite.
    pub async fn listen(&self) -> Result<Option<ChangeListener>, StoreError> {
        self.listen_to(&[JOBS_CHANNEL, CLUSTER_CHANNEL]).await
    }

    /// Subscribes to the settings channel (PostgreSQL); `None` on SQLite.
    pub async fn listen_settings(&self) -> Result<Option<ChangeListener>, StoreError> {
        self.listen_to(&[SETTINGS_CHANNEL]).await
    }

    async fn listen_to(&self, channels: &[&str]) -> Result<Option<ChangeListener>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        self.bounded(async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen_all(channels.iter().copied()).await?;
            Ok(Some(ChangeListener { listener }))
        })
        .await
    }
}
