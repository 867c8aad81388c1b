//! Replicas (instances) and their liveness.
//!
//! An instance is live while it heartbeats within `dead_after_ms` (measured by the database
//! clock) and has not left. Where the engine has sessions ([`super::session`]) it must also
//! still hold its session: a replica records the id of a dedicated connection that holds a
//! lock named after it; when that connection holds the lock no more, the replica's process is
//! gone (crashed), which peers see at once instead of after the heartbeat threshold. A session
//! recorded before the server last started is ignored (the heartbeat decides), so a database
//! restart declares nobody dead.

use super::Store;
use super::error::StoreError;
use super::model::Instance;

impl Store {
    /// Registers or refreshes instance `id` (an upsert: an instance that was declared dead or
    /// had left is registered again) and returns the database time of the heartbeat.
    pub async fn heartbeat(
        &self,
        id: &str,
        address: &str,
        version: &str,
    ) -> Result<i64, StoreError> {
        self.bounded(self.driver.heartbeat(id, address, version))
            .await
    }

    /// Marks instance `id` as gone (graceful shutdown); it is no longer live.
    pub async fn leave(&self, id: &str) -> Result<(), StoreError> {
        self.bounded(self.driver.leave(id)).await
    }

    /// Live instances (see the module documentation), by id.
    pub async fn live_instances(&self, dead_after_ms: i64) -> Result<Vec<Instance>, StoreError> {
        self.bounded(self.driver.live_instances(dead_after_ms))
            .await
    }

    /// Every registered instance, live or not, by id.
    pub async fn all_instances(&self) -> Result<Vec<Instance>, StoreError> {
        self.bounded(self.driver.all_instances()).await
    }

    /// Who left jobs without a live owner: `(dead instance, jobs)` by id, then `(None, jobs
    /// without an owner)`. Polled between heartbeats to notice a crashed peer at once.
    pub async fn orphan_summary(
        &self,
        dead_after_ms: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        self.bounded(self.driver.orphan_summary(dead_after_ms))
            .await
    }
}
