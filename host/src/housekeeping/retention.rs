//! Run history retention: finished runs scheduled longer ago than `runs.retention` are deleted
//! (each job's newest scheduled run is kept: it is the job's catch-up cursor), and a job's
//! runs past its per-job limits (`runs.keep_succeeded`, `runs.keep_failed`); so are alert
//! deliveries settled (delivered or given up) longer ago than that, and audit log entries
//! recorded longer ago than that.

use futures::future::BoxFuture;

use super::Service;
use crate::settings::SettingsCache;
use crate::store::{RunStatus, Store, StoreError};

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

/// Deletes each job's succeeded runs beyond its newest `runs.keep_succeeded`, and its failed
/// and timed-out runs beyond its newest `runs.keep_failed` (nothing when a setting is unset).
pub struct RunHistoryLimits {
    store: Store,
    settings: SettingsCache,
}

impl RunHistoryLimits {
    pub fn new(store: Store, settings: SettingsCache) -> Self {
        Self { store, settings }
    }
}

impl Service for RunHistoryLimits {
    fn name(&self) -> &'static str {
        "run history limits"
    }

    fn pass(&self, _now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let settings = self.settings.get();
        Box::pin(async move {
            let mut deleted = 0;
            if let Some(keep) = settings.keep_succeeded {
                let succeeded = [RunStatus::Succeeded];
                deleted += self.store.delete_runs_over(&succeeded, keep).await?;
            }
            if let Some(keep) = settings.keep_failed {
                let failed = [RunStatus::Failed, RunStatus::TimedOut];
                deleted += self.store.delete_runs_over(&failed, keep).await?;
            }
            Ok(deleted)
        })
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
