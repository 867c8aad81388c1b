//! Cluster-wide events: run started/finished, job changed, instance joined/left, plugin
//! loaded/failed, setting changed, token created/revoked. Every event is persisted in the
//! `events` table (bounded retention, by the leader's housekeeping) so any replica can stream
//! it (`GET /api/v1/events`) and a client can resume with `Last-Event-ID`.
//!
//! - [`kinds`]: the kinds and their payloads;
//! - [`feed`]: following the history ([`EventHub`]: one per replica, woken by notifications);
//! - [`watch`]: what a replica observes on its own (its plugins, its peers leaving).
//!
//! Publishing is one call, [`publish`], that never blocks its caller: the write happens on a
//! task, and a failure is logged (an event is worth less than the work that produced it).

mod feed;
mod kinds;
mod watch;

pub use feed::{EventHub, GAP_WAIT, NOTIFIED_POLL_INTERVAL, POLL_INTERVAL};
pub use kinds::{Event, JobChange, SettingChange, TokenChange, instant};
pub use watch::{watch_peers, watch_plugins};

use crate::store::Store;

/// Persist `event` (and, on PostgreSQL, wake every replica's listeners). Returns at once.
pub fn publish(store: &Store, event: Event) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let store = store.clone();
    runtime.spawn(async move {
        let kind = event.kind();
        match store.append_event(kind, &event.payload()).await {
            Ok(_) => crate::metrics::global().event_published(),
            Err(e) => tracing::debug!(error = %e, kind, "cannot persist event"),
        }
    });
}
