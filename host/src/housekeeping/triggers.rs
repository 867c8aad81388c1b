//! Manual triggers that no owner took within [`TRIGGER_EXPIRY`] are dropped (and said so).

use std::time::Duration;

use futures::future::BoxFuture;

use super::Service;
use crate::store::{Store, StoreError};

/// A manual trigger no owner took within this long is dropped.
pub const TRIGGER_EXPIRY: Duration = Duration::from_secs(3600);

/// Drops stale manual triggers.
pub struct TriggerExpiry {
    store: Store,
}

impl TriggerExpiry {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Service for TriggerExpiry {
    fn name(&self) -> &'static str {
        "trigger expiry"
    }

    fn pass(&self, now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let cutoff = now_ms - TRIGGER_EXPIRY.as_millis() as i64;
            let expired = self.store.expire_triggers(cutoff).await?;
            if expired > 0 {
                tracing::warn!(
                    expired,
                    "manual triggers expired: no owner took them within an hour"
                );
            }
            Ok(expired)
        })
    }
}
