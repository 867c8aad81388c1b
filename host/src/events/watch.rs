//! Events a replica can observe on its own, without hooks elsewhere: its plugins loading or
//! failing, itself joining, peers leaving (reported once, by the live replica with the
//! smallest id), and the history's retention.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{Event, publish};
use crate::replica::Replica;

/// Events older than this are deleted.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// At most this many events are kept.
pub const RETENTION_COUNT: i64 = 100_000;
/// A manual trigger no owner took within this long is dropped.
const TRIGGER_EXPIRY_MS: i64 = 3600 * 1000;

const PLUGINS_EVERY: Duration = Duration::from_millis(500);
const PEERS_EVERY: Duration = Duration::from_secs(2);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Start the watchers of `replica`; they end when the replica is dropped.
pub fn spawn_watchers(replica: &Arc<Replica>) {
    publish(
        &replica.store,
        Event::InstanceJoined {
            instance_id: replica.options.instance_id.clone(),
            address: replica.options.advertise.clone(),
        },
    );
    tokio::spawn(watch(Arc::downgrade(replica)));
}

async fn watch(replica: Weak<Replica>) {
    let mut plugins: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut peers: Option<BTreeSet<String>> = None;
    let mut plugins_tick = tokio::time::interval(PLUGINS_EVERY);
    let mut peers_tick = tokio::time::interval(PEERS_EVERY);
    let mut prune_tick = tokio::time::interval(PRUNE_EVERY);
    for tick in [&mut plugins_tick, &mut peers_tick, &mut prune_tick] {
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = plugins_tick.tick() => {
                let Some(r) = replica.upgrade() else { return };
                watch_plugins(&r, &mut plugins);
            }
            _ = peers_tick.tick() => {
                let Some(r) = replica.upgrade() else { return };
                watch_peers(&r, &mut peers).await;
            }
            _ = prune_tick.tick() => {
                let Some(r) = replica.upgrade() else { return };
                prune(&r).await;
            }
        }
    }
}

fn watch_plugins(replica: &Replica, seen: &mut BTreeMap<String, (Option<String>, Option<String>)>) {
    let instance_id = &replica.options.instance_id;
    let now: BTreeMap<_, _> = replica
        .runtime
        .plugins
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
                publish(
                    &replica.store,
                    Event::PluginFailed {
                        plugin: name.clone(),
                        error: error.clone(),
                        instance_id: instance_id.clone(),
                    },
                );
            }
            (Some(digest), None) => publish(
                &replica.store,
                Event::PluginLoaded {
                    plugin: name.clone(),
                    digest: digest.clone(),
                    instance_id: instance_id.clone(),
                },
            ),
            (None, None) => {}
        }
    }
    *seen = now;
}

async fn watch_peers(replica: &Replica, seen: &mut Option<BTreeSet<String>>) {
    let dead_after = replica.options.dead_after.as_millis() as i64;
    let Ok(live) = replica.store.live_instances(dead_after).await else {
        return;
    };
    let live: BTreeSet<String> = live.into_iter().map(|i| i.id).collect();
    let reporter = live.iter().next() == Some(&replica.options.instance_id);
    if let Some(before) = seen.as_ref()
        && reporter
    {
        for gone in before.difference(&live) {
            publish(
                &replica.store,
                Event::InstanceLeft {
                    instance_id: gone.clone(),
                },
            );
        }
    }
    *seen = Some(live);
}

async fn prune(replica: &Replica) {
    let now = replica.clock.now_ms();
    match replica
        .store
        .prune_events(now - RETENTION.as_millis() as i64, RETENTION_COUNT)
        .await
    {
        Ok(0) | Err(_) => {}
        Ok(n) => tracing::debug!(deleted = n, "old events deleted (retention)"),
    }
    if let Ok(n) = replica.store.expire_triggers(now - TRIGGER_EXPIRY_MS).await
        && n > 0
    {
        tracing::warn!(
            expired = n,
            "manual triggers expired: no owner took them within an hour"
        );
    }
}
