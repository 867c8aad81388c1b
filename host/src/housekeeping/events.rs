//! Event history retention: events older than [`EVENT_RETENTION`] are deleted, and at most
//! [`EVENT_RETENTION_COUNT`] are kept.

use std::time::Duration;

use futures::future::BoxFuture;

use super::Service;
use crate::store::{Store, StoreError};

/// Events older than this are deleted.
pub const EVENT_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// At most this many events are kept.
pub const EVENT_RETENTION_COUNT: i64 = 100_000;

/// Prunes the event history.
pub struct EventPruning {
    store: Store,
}

impl EventPruning {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Service for EventPruning {
    fn name(&self) -> &'static str {
        "event pruning"
    }

    fn pass(&self, now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let cutoff = now_ms - EVENT_RETENTION.as_millis() as i64;
        Box::pin(self.store.prune_events(cutoff, EVENT_RETENTION_COUNT))
    }
}
