//! The settings cache: every replica reads settings and API tokens from memory. The cache
//! refreshes from the database every TTL, at once when this replica wrote a setting or token,
//! and (PostgreSQL) at once when another replica did: writes `NOTIFY wasmcron_settings`, and
//! the cache listens. A lost notification is covered by the TTL, which is also the only
//! mechanism on SQLite. A failed refresh keeps the last good values (and is logged): it never
//! falls back to defaults.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::keys::Settings;
use super::tokens::TokenSet;
use crate::store::notify::ChangeListener;
use crate::store::{Store, StoreError};

/// One consistent view: the settings and tokens loaded by one refresh.
#[derive(Debug)]
struct Snapshot {
    settings: Arc<Settings>,
    tokens: Arc<TokenSet>,
    loaded_at: Instant,
}

#[derive(Debug)]
struct Inner {
    current: RwLock<Snapshot>,
    /// Reload from the database now.
    changed: Notify,
    /// Values were replaced outside the loop (by [`SettingsCache::refresh`]): the loop only
    /// tells its `on_refresh`.
    applied: Notify,
    ttl: Duration,
}

/// Shared settings cache. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SettingsCache {
    inner: Arc<Inner>,
}

/// Why the refresh loop woke up.
enum Wake {
    /// Read the values from the database.
    Reload,
    /// [`SettingsCache::refresh`] installed new values.
    Applied,
    /// Only (re)subscribe to notifications.
    Listen,
}

/// How long to wait before subscribing again after the notification connection failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

impl SettingsCache {
    /// A cache holding `settings` and no named token, refreshed every `ttl` by
    /// [`SettingsCache::run`].
    pub fn new(settings: Settings, ttl: Duration) -> Self {
        Self::with_tokens(settings, TokenSet::default(), ttl)
    }

    fn with_tokens(settings: Settings, tokens: TokenSet, ttl: Duration) -> Self {
        SettingsCache {
            inner: Arc::new(Inner {
                current: RwLock::new(Snapshot {
                    settings: Arc::new(settings),
                    tokens: Arc::new(tokens),
                    loaded_at: Instant::now(),
                }),
                changed: Notify::new(),
                applied: Notify::new(),
                ttl,
            }),
        }
    }

    /// Load the settings now (at start: a replica that cannot read them does not start).
    pub async fn load(store: &Store, ttl: Duration) -> Result<Self, StoreError> {
        let (settings, tokens) = Self::read(store).await?;
        Ok(SettingsCache::with_tokens(settings, tokens, ttl))
    }

    async fn read(store: &Store) -> Result<(Settings, TokenSet), StoreError> {
        let rows = store.settings_all().await?;
        let tokens = store.tokens_all().await?;
        Ok((Settings::from_rows(&rows), TokenSet::from_rows(&tokens)))
    }

    /// The current settings.
    pub fn get(&self) -> Arc<Settings> {
        self.inner
            .current
            .read()
            .expect("settings lock")
            .settings
            .clone()
    }

    /// The current named API tokens.
    pub fn tokens(&self) -> Arc<TokenSet> {
        self.inner
            .current
            .read()
            .expect("settings lock")
            .tokens
            .clone()
    }

    /// Drop a named token from the cached set at once (it was revoked by this replica).
    pub fn forget_token(&self, name: &str) {
        let mut current = self.inner.current.write().expect("settings lock");
        current.tokens = Arc::new(current.tokens.without(name));
    }

    /// The TTL: the longest a value may stay stale when a notification is lost.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// How long ago the values were last refreshed successfully.
    pub fn age(&self) -> Duration {
        self.inner
            .current
            .read()
            .expect("settings lock")
            .loaded_at
            .elapsed()
    }

    /// Ask for a refresh now (a change notification arrived).
    pub fn invalidate(&self) {
        self.inner.changed.notify_one();
    }

    /// Refresh once. On failure the previous values stay.
    pub async fn refresh(&self, store: &Store) -> Result<Arc<Settings>, StoreError> {
        let settings = self.replace(Self::read(store).await?);
        // The loop's `on_refresh` sees the new values (without reading them again).
        self.inner.applied.notify_one();
        Ok(settings)
    }

    /// After this replica wrote a setting or token: apply it here before answering. A failure
    /// is logged (the TTL and the notification bring it later).
    pub async fn reload_after_write(&self, store: &Store) {
        if let Err(e) = self.refresh(store).await {
            tracing::warn!(error = %e, "cannot reload settings and tokens after a change");
        }
    }

    /// Install freshly read values.
    fn replace(&self, (settings, tokens): (Settings, TokenSet)) -> Arc<Settings> {
        let settings = Arc::new(settings);
        *self.inner.current.write().expect("settings lock") = Snapshot {
            settings: settings.clone(),
            tokens: Arc::new(tokens),
            loaded_at: Instant::now(),
        };
        settings
    }

    /// Refresh every TTL, on [`SettingsCache::invalidate`] and on every settings notification
    /// from the database, until `stop`; `on_refresh` sees every successfully loaded value set.
    pub async fn run(
        &self,
        store: Store,
        stop: impl Future<Output = ()>,
        mut on_refresh: impl FnMut(&Settings) + Send,
    ) {
        tokio::pin!(stop);
        let mut listener: Option<ChangeListener> = None;
        let mut listenable = true;
        let mut relisten_at = Instant::now();
        let mut next_refresh = Instant::now() + self.inner.ttl;
        loop {
            if listenable && listener.is_none() && Instant::now() >= relisten_at {
                match store.listen_settings().await {
                    Ok(Some(subscribed)) => {
                        listener = Some(subscribed);
                        // Changes made while not subscribed were not announced to us.
                        self.invalidate();
                    }
                    Ok(None) => listenable = false,
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot listen for settings changes yet");
                        relisten_at = Instant::now() + RELISTEN_AFTER;
                    }
                }
            }
            let retry_listen = listenable && listener.is_none();
            let wake = tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep_until(next_refresh) => Wake::Reload,
                _ = self.inner.changed.notified() => Wake::Reload,
                _ = self.inner.applied.notified() => Wake::Applied,
                _ = tokio::time::sleep_until(relisten_at), if retry_listen => Wake::Listen,
                next = async { listener.as_mut().expect("listener").next().await }, if listener.is_some() => {
                    match next {
                        Ok(_) => Wake::Reload,
                        Err(e) => {
                            tracing::debug!(error = %e, "settings notifications interrupted");
                            listener = None;
                            relisten_at = Instant::now() + RELISTEN_AFTER;
                            Wake::Listen
                        }
                    }
                }
            };
            let settings = match wake {
                Wake::Listen => continue,
                Wake::Applied => self.get(),
                // Several notifications at once: one refresh covers them all.
                Wake::Reload => match Self::read(&store).await {
                    Ok(read) => self.replace(read),
                    Err(e) => {
                        tracing::warn!(error = %e, age_s = self.age().as_secs(), "settings refresh failed; keeping the last good values");
                        next_refresh = Instant::now() + self.inner.ttl.min(RELISTEN_AFTER * 5);
                        continue;
                    }
                },
            };
            next_refresh = Instant::now() + self.inner.ttl;
            on_refresh(&settings);
        }
    }
}
