//! The settings cache: every replica reads settings from memory; the cache refreshes from the
//! database every TTL and at once when told a setting changed. A failed refresh keeps the last
//! good values (and is logged): it never falls back to defaults.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::keys::Settings;
use crate::store::{Store, StoreError};

#[derive(Debug)]
struct Inner {
    current: RwLock<(Arc<Settings>, Instant)>,
    changed: Notify,
    ttl: Duration,
}

/// Shared settings cache. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SettingsCache {
    inner: Arc<Inner>,
}

impl SettingsCache {
    /// A cache holding `settings`, refreshed every `ttl` by [`SettingsCache::run`].
    pub fn new(settings: Settings, ttl: Duration) -> Self {
        SettingsCache {
            inner: Arc::new(Inner {
                current: RwLock::new((Arc::new(settings), Instant::now())),
                changed: Notify::new(),
                ttl,
            }),
        }
    }

    /// Load the settings now (at start: a replica that cannot read them does not start).
    pub async fn load(store: &Store, ttl: Duration) -> Result<Self, StoreError> {
        let rows = store.settings_all().await?;
        Ok(SettingsCache::new(Settings::from_rows(&rows), ttl))
    }

    /// The current settings.
    pub fn get(&self) -> Arc<Settings> {
        self.inner.current.read().expect("settings lock").0.clone()
    }

    /// How long ago the values were last refreshed successfully.
    pub fn age(&self) -> Duration {
        self.inner
            .current
            .read()
            .expect("settings lock")
            .1
            .elapsed()
    }

    /// Ask for a refresh now (a change notification arrived, or this replica wrote a setting).
    pub fn invalidate(&self) {
        self.inner.changed.notify_one();
    }

    /// Refresh once. On failure the previous values stay.
    pub async fn refresh(&self, store: &Store) -> Result<Arc<Settings>, StoreError> {
        let rows = store.settings_all().await?;
        let settings = Arc::new(Settings::from_rows(&rows));
        *self.inner.current.write().expect("settings lock") = (settings.clone(), Instant::now());
        Ok(settings)
    }

    /// Refresh every TTL and on [`SettingsCache::invalidate`], until `stop`; `on_refresh` sees
    /// every successfully loaded value set.
    pub async fn run(
        &self,
        store: Store,
        stop: impl Future<Output = ()>,
        mut on_refresh: impl FnMut(&Settings) + Send,
    ) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(self.inner.ttl) => {}
                _ = self.inner.changed.notified() => {}
            }
            match self.refresh(&store).await {
                Ok(settings) => on_refresh(&settings),
                Err(e) => {
                    tracing::warn!(error = %e, age_s = self.age().as_secs(), "settings refresh failed; keeping the last good values")
                }
            }
        }
    }
}
