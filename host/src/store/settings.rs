//! Cluster-wide settings: JSON values under string keys.

use super::Store;
use super::error::StoreError;

impl Store {
    /// Every setting, by key.
    pub async fn settings_all(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        on_pool!(self, |pool, _backend| {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
                    .fetch_all(pool)
                    .await?;
            rows.into_iter()
                .map(|(key, text)| match serde_json::from_str(&text) {
                    Ok(value) => Ok((key, value)),
                    Err(e) => Err(StoreError::Corrupt {
                        what: "setting",
                        detail: format!("{key}: {e}"),
                    }),
                })
                .collect()
        })
    }

    /// Sets `key` to `value` (insert or replace), and tells every replica.
    pub async fn setting_put(
        &self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let upsert = sql!(
            "INSERT INTO settings (key, value, updated_at_ms) VALUES ($1, $2, ",
            now,
            ") ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
             updated_at_ms = excluded.updated_at_ms"
        );
        let text = value.to_string();
        on_pool!(self, |pool, backend| {
            sqlx::query(upsert.get(backend))
                .bind(key)
                .bind(&text)
                .execute(pool)
                .await?;
            Ok::<_, StoreError>(())
        })?;
        self.announce_settings_change().await;
        Ok(())
    }

    /// Removes `key` (false when it was not set), and tells every replica.
    pub async fn setting_delete(&self, key: &str) -> Result<bool, StoreError> {
        self.delete_and_announce("DELETE FROM settings WHERE key = $1", key)
            .await
    }

    /// Runs a one-parameter `DELETE`; when it deleted a row, tells every replica to reload
    /// its settings cache. False when nothing was deleted.
    pub(super) async fn delete_and_announce(
        &self,
        statement: &'static str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, |pool, _backend| {
            let done = sqlx::query(statement).bind(key).execute(pool).await?;
            Ok::<_, StoreError>(done.rows_affected() > 0)
        })?;
        if deleted {
            self.announce_settings_change().await;
        }
        Ok(deleted)
    }
}
