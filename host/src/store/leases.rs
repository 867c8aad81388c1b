//! Named leases with their own epoch: leader election for cluster-wide housekeeping.
//!
//! A lease is held until `expires_at_ms` (database clock) and renewed by its holder before
//! then; anyone may take an expired lease, which bumps its epoch. Work done under a lease is
//! checked against `(holder, epoch)` right before it is done, so a holder that was paused past
//! the expiry does nothing once it has been replaced.

use super::Store;
use super::error::StoreError;

impl Store {
    /// Takes or renews lease `name` for `holder` for `ttl_ms`; returns its epoch when `holder`
    /// holds it now, `None` when someone else holds a lease that has not expired.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.bounded(self.driver.acquire_lease(name, holder, ttl_ms))
            .await
    }

    /// Whether `holder` still holds lease `name` under `epoch` (and it has not expired).
    pub async fn holds_lease(
        &self,
        name: &str,
        holder: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        self.bounded(self.driver.holds_lease(name, holder, epoch))
            .await
    }

    /// The holder of lease `name` if it has not expired.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.bounded(self.driver.lease_holder(name)).await
    }

    /// Gives up lease `name` if `holder` holds it (graceful shutdown), so a peer takes it at
    /// its next heartbeat.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.bounded(self.driver.release_lease(name, holder)).await
    }
}
