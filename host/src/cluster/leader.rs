//! The cluster's leader: the replica holding the `housekeeping` lease, renewed with every
//! heartbeat and lost after the dead threshold without renewal, so it fails over like jobs do.
//! Work done as leader is checked against the lease's epoch right before it is done.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::{Store, StoreError};

/// Name of the lease that elects the leader.
pub const HOUSEKEEPING_LEASE: &str = "housekeeping";

/// This replica's view of the leadership.
#[derive(Clone, Debug)]
pub struct Leadership {
    store: Store,
    instance_id: String,
    epoch: Arc<Mutex<Option<i64>>>,
}

impl Leadership {
    pub fn new(store: Store, instance_id: String) -> Self {
        Leadership {
            store,
            instance_id,
            epoch: Arc::default(),
        }
    }

    /// The lease epoch when this replica believes it leads.
    pub fn epoch(&self) -> Option<i64> {
        *self.epoch.lock().expect("lease lock")
    }

    /// Take or renew the lease for `ttl`.
    pub async fn renew(&self, ttl: Duration) -> Result<(), StoreError> {
        let got = self
            .store
            .acquire_lease(
                HOUSEKEEPING_LEASE,
                &self.instance_id,
                ttl.as_millis() as i64,
            )
            .await;
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                // Unknown: assume the worst until the next renewal.
                *self.epoch.lock().expect("lease lock") = None;
                return Err(e);
            }
        };
        let was = std::mem::replace(&mut *self.epoch.lock().expect("lease lock"), got);
        match (was, got) {
            (None, Some(epoch)) => tracing::info!(epoch, "leading cluster housekeeping"),
            (Some(_), None) => tracing::info!("no longer leading cluster housekeeping"),
            _ => {}
        }
        Ok(())
    }

    /// Whether the lease is still held under the epoch this replica believes it holds (asked
    /// right before leader-only work).
    pub async fn confirmed(&self) -> Option<i64> {
        let epoch = self.epoch()?;
        match self
            .store
            .holds_lease(HOUSEKEEPING_LEASE, &self.instance_id, epoch)
            .await
        {
            Ok(true) => Some(epoch),
            _ => None,
        }
    }

    /// Give the lease up (graceful shutdown) so a peer takes it at its next heartbeat.
    pub async fn resign(&self) {
        if self.epoch.lock().expect("lease lock").take().is_some()
            && let Err(e) = self
                .store
                .release_lease(HOUSEKEEPING_LEASE, &self.instance_id)
                .await
        {
            tracing::warn!(error = %e, "cannot give up the housekeeping lease; it expires");
        }
    }
}
