//! Cluster housekeeping: work done once for the whole cluster, by its leader (the holder of
//! the `housekeeping` lease, see [`crate::cluster::Leadership`]), every
//! `--housekeeping-interval` (a minute by default). Each service is one file:
//!
//! - [`retention`]: run history and settled alert deliveries older than `runs.retention`,
//!   runs past a job's `runs.keep_succeeded` / `runs.keep_failed`;
//! - [`events`]: the event history past its age and count limits;
//! - [`triggers`]: manual triggers no owner took within an hour;
//! - [`instances`]: instance rows of replicas long gone.
//!
//! Beside them, [`watch_stale`] (`stale.rs`) looks for stale jobs every few seconds, also on
//! the leader only.
//!
//! A new service implements [`Service`] and is added to [`services`]. The lease is confirmed
//! right before each pass, so a replica that lost it mid-way stops at the next service.

mod events;
mod instances;
mod retention;
mod stale;
mod triggers;

use std::time::Duration;

use futures::future::BoxFuture;

use crate::clock::DbClock;
use crate::cluster::Leadership;
use crate::settings::SettingsCache;
use crate::store::{Store, StoreError};

pub use events::{EVENT_RETENTION, EVENT_RETENTION_COUNT};
pub use stale::{STALE_CHECK_INTERVAL, watch_stale};
pub use triggers::TRIGGER_EXPIRY;

/// One kind of cluster-wide cleanup.
pub trait Service: Send + Sync {
    /// Its name in logs.
    fn name(&self) -> &'static str;
    /// One pass at database instant `now_ms`; how many rows it removed.
    fn pass(&self, now_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// The services of a replica whose peers are dead after `dead_after`.
pub fn services(
    store: &Store,
    settings: &SettingsCache,
    dead_after: Duration,
) -> Vec<Box<dyn Service>> {
    vec![
        Box::new(retention::RunRetention::new(
            store.clone(),
            settings.clone(),
        )),
        Box::new(retention::RunHistoryLimits::new(
            store.clone(),
            settings.clone(),
        )),
        Box::new(retention::AlertRetention::new(
            store.clone(),
            settings.clone(),
        )),
        Box::new(retention::AuditRetention::new(
            store.clone(),
            settings.clone(),
        )),
        Box::new(events::EventPruning::new(store.clone())),
        Box::new(triggers::TriggerExpiry::new(store.clone())),
        Box::new(instances::StaleInstances::new(store.clone(), dead_after)),
    ]
}

/// Run `services` every `interval` while this replica leads, until `stop`.
pub async fn run(
    services: Vec<Box<dyn Service>>,
    interval: Duration,
    leadership: Leadership,
    clock: DbClock,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(interval) => {}
        }
        for service in &services {
            if leadership.confirmed().await.is_none() {
                break;
            }
            match service.pass(clock.now_ms()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(service = service.name(), removed, "housekeeping"),
                Err(e) => {
                    tracing::warn!(service = service.name(), error = %e, "housekeeping failed")
                }
            }
        }
    }
}
