//! Instance rows of replicas gone for long: without a heartbeat for an hour (or twice the dead
//! threshold, if longer) and owning no job, they are deleted.

use std::time::Duration;

use futures::future::BoxFuture;

use super::Service;
use crate::store::{Store, StoreError};

/// Instance rows without a heartbeat for this long (and owning no job) are deleted.
const STALE_INSTANCE_AFTER: Duration = Duration::from_secs(3600);

/// Deletes rows of replicas long gone.
pub struct StaleInstances {
    store: Store,
    stale_after: Duration,
}

impl StaleInstances {
    /// For a cluster whose replicas are dead after `dead_after`.
    pub fn new(store: Store, dead_after: Duration) -> Self {
        Self {
            store,
            stale_after: STALE_INSTANCE_AFTER.max(dead_after * 2),
        }
    }
}

impl Service for StaleInstances {
    fn name(&self) -> &'static str {
        "stale instances"
    }

    fn pass(&self, _now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(
            self.store
                .delete_stale_instances(self.stale_after.as_millis() as i64),
        )
    }
}
