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
        const QUERY: &str = "SELECT name, role, sha256, created_at_ms, created_by, last_used_ms \
                             FROM api_tokens ORDER BY name";
        on_pool!(self, |pool, _backend| {
            Ok(sqlx::query_as::<_, StoredToken>(QUERY)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Stores a new token, and tells every replica; `None` when a token of that name exists.
    pub async fn token_create(
        &self,
        name: &str,
        role: &str,
        sha256: &str,
        created_by: Option<&str>,
    ) -> Result<Option<StoredToken>, StoreError> {
        let insert = sql!(
            "INSERT INTO api_tokens (name, role, sha256, created_at_ms, created_by) \
             VALUES ($1, $2, $3, ",
            now,
            ", $4) ON CONFLICT (name) DO NOTHING \
             RETURNING name, role, sha256, created_at_ms, created_by, last_used_ms"
        );
        let created = on_pool!(self, |pool, backend| {
            Ok::<_, StoreError>(
                sqlx::query_as::<_, StoredToken>(insert.get(backend))
                    .bind(name)
                    .bind(role)
                    .bind(sha256)
                    .bind(created_by)
                    .fetch_optional(pool)
                    .await?,
            )
        })?;
        if created.is_some() {
            self.announce_settings_change().await;
        }
        Ok(created)
    }

    /// Deletes (revokes) a token; false when there was none. Tells every replica.
    pub async fn token_delete(&self, name: &str) -> Result<bool, StoreError> {
        self.delete_and_announce("DELETE FROM api_tokens WHERE name = $1", name)
            .await
    }

    /// Records that a token was used (callers throttle this; no notification).
    pub async fn token_touch(&self, name: &str) -> Result<(), StoreError> {
        let update = sql!(
            "UPDATE api_tokens SET last_used_ms = ",
            now,
            " WHERE name = $1"
        );
        on_pool!(self, |pool, backend| {
            sqlx::query(update.get(backend))
                .bind(name)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Tells every replica to reload settings and tokens now (PostgreSQL; a no-op on SQLite).
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
