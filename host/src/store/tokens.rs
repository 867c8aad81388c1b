//! Named API tokens: only the SHA-256 of each secret is stored.

use super::Store;
use super::error::StoreError;
use super::notify::SETTINGS_CHANNEL;

/// One stored token (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredToken {
    pub name: String,
    /// `admin` or `read`.
    pub role: String,
    /// Hex SHA-256 of the secret.
    pub sha256: String,
    pub created_at_ms: i64,
    pub created_by: Option<String>,
    pub last_used_ms: Option<i64>,
}

impl Store {
    /// Every token, by name.
    pub async fn tokens_all(&self) -> Result<Vec<StoredToken>, StoreError> {
        self.bounded(self.driver.tokens_all()).await
    }

    /// Stores a new token, and tells every replica; `None` when a token of that name exists.
    pub async fn token_create(
        &self,
        name: &str,
        role: &str,
        sha256: &str,
        created_by: Option<&str>,
    ) -> Result<Option<StoredToken>, StoreError> {
        let created = self
            .bounded(self.driver.token_create(name, role, sha256, created_by))
            .await?;
        if created.is_some() {
            self.announce_settings_change().await;
        }
        Ok(created)
    }

    /// Deletes (revokes) a token; false when there was none. Tells every replica.
    pub async fn token_delete(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = self.bounded(self.driver.token_delete(name)).await?;
        if deleted {
            self.announce_settings_change().await;
        }
        Ok(deleted)
    }

    /// Records that a token was used (callers throttle this; no notification).
    pub async fn token_touch(&self, name: &str) -> Result<(), StoreError> {
        self.bounded(self.driver.token_touch(name)).await
    }

    /// Tells every replica to reload settings and tokens now (a no-op without
    /// notifications).
    pub async fn notify_settings_changed(&self) -> Result<(), StoreError> {
        self.notify(SETTINGS_CHANNEL, "").await
    }

    /// [`Store::notify_settings_changed`] after a write that succeeded: a failure is logged,
    /// not returned (the write stands; the other replicas' cache TTL bounds their staleness).
    pub(super) async fn announce_settings_change(&self) {
        if let Err(e) = self.notify_settings_changed().await {
            tracing::warn!(error = %e, "cannot notify the other replicas of a settings change; they apply it within the settings TTL");
        }
    }
}
