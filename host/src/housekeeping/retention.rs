//! Run history retention: finished runs scheduled longer ago than `runs.retention` are deleted
//! (each job's newest scheduled run is kept: it is the job's catch-up cursor); so are alert
//! deliveries settled (delivered or given up) longer ago than that, and audit log entries
//! recorded longer ago than that.

use futures::future::BoxFuture;

use super::Service;
use crate::settings::SettingsCache;
use crate::store::{Store, StoreError};

/// Deletes runs past the retention setting.
pub struct RunRetention {
    store: Store,
    settings: SettingsCache,
}

impl RunRetention {
    pub fn new(store: Store, settings: SettingsCache) -> Self {
        Self { store, settings }
    }
}

impl Service for RunRetention {
    fn name(&self) -> &'static str {
        "run retention"
    }

    fn pass(&self, now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let retention = self.settings.get().runs_retention.as_millis() as i64;
        Box::pin(self.store.delete_runs_before(now_ms - retention))
    }
}

/// Deletes alert deliveries settled longer ago than the retention setting.
pub struct AlertRetention {
    store: Store,
    settings: SettingsCache,
}

impl AlertRetention {
    pub fn new(store: Store, settings: SettingsCache) -> Self {
        Self { store, settings }
    }
}

impl Service for AlertRetention {
    fn name(&self) -> &'static str {
        "alert retention"
    }

    fn pass(&self, now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let retention = self.settings.get().runs_retention.as_millis() as i64;
        Box::pin(self.store.prune_alerts(now_ms - retention))
    }
}

/// Deletes audit log entries recorded longer ago than the retention setting.
pub struct AuditRetention {
    store: Store,
    settings: SettingsCache,
}

impl AuditRetention {
    pub fn new(store: Store, settings: SettingsCache) -> Self {
        Self { store, settings }
    }
}

impl Service for AuditRetention {
    fn name(&self) -> &'static str {
        "audit retention"
    }

    fn pass(&self, now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let retention = self.settings.get().runs_retention.as_millis() as i64;
        Box::pin(self.store.prune_audit(now_ms - retention))
    }
}
