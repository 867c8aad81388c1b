//! Events a replica observes on its own, without hooks elsewhere: its plugins loading or
//! failing, and peers leaving (reported once, by the live replica with the smallest id).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{Event, Publisher};
use crate::alerts::Alert;
use crate::runtime::PluginDir;
use crate::store::Store;

/// How often the plugins directory's state is compared with the last look.
const PLUGINS_EVERY: Duration = Duration::from_millis(500);
/// How often the live replicas are compared with the last look.
const PEERS_EVERY: Duration = Duration::from_secs(2);

/// Publish `plugin.loaded` / `plugin.failed` for every change in `plugins` until `stop`.
pub async fn watch_plugins(
    events: Publisher,
    plugins: std::sync::Arc<PluginDir>,
    instance_id: String,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut seen: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut every = tokio::time::interval(PLUGINS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = every.tick() => {}
        }
        let now: BTreeMap<_, _> = plugins
            .list()
            .into_iter()
            .map(|p| (p.name, (p.digest, p.error)))
            .collect();
        for (name, state) in &now {
            if seen.get(name) == Some(state) {
                continue;
            }
            match state {
                (_, Some(error)) => {
                    crate::metrics::global().plugin_load_failed();
                    events.alert(Alert::plugin_failed(name, error, &instance_id));
                    events.publish(Event::PluginFailed {
                        plugin: name.clone(),
                        error: error.clone(),
                        instance_id: instance_id.clone(),
                    });
                }
                (Some(digest), None) => events.publish(Event::PluginLoaded {
                    plugin: name.clone(),
                    digest: digest.clone(),
                    instance_id: instance_id.clone(),
                }),
                (None, None) => {}
            }
        }
        seen = now;
    }
}

/// Publish `instance.left` for every replica that leaves, until `stop`; only the live replica
/// with the smallest id reports, so each departure is reported once.
pub async fn watch_peers(
    store: Store,
    events: Publisher,
    instance_id: String,
    dead_after: Duration,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut seen: Option<BTreeSet<String>> = None;
    let mut every = tokio::time::interval(PEERS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = every.tick() => {}
        }
        let Ok(live) = store.live_instances(dead_after.as_millis() as i64).await else {
            continue;
        };
        let live: BTreeSet<String> = live.into_iter().map(|i| i.id).collect();
        let reporter = live.iter().next() == Some(&instance_id);
        if let Some(before) = seen.as_ref()
            && reporter
        {
            for gone in before.difference(&live) {
                events.publish(Event::InstanceLeft {
                    instance_id: gone.clone(),
                });
            }
        }
        seen = Some(live);
    }
}
