//! Cluster-wide settings: JSON values under string keys. Every write is announced on
//! [`SETTINGS_CHANNEL`](super::notify::SETTINGS_CHANNEL) so the replicas reload their cache.

use super::Store;
use super::error::StoreError;

impl Store {
    /// Every setting, by key.
    pub async fn settings_all(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let rows = self.bounded(self.driver.settings_all()).await?;
        rows.into_iter()
            .map(|(key, text)| match serde_json::from_str(&text) {
                Ok(value) => Ok((key, value)),
                Err(e) => Err(StoreError::Corrupt {
                    what: "setting",
                    detail: format!("{key}: {e}"),
                }),
            })
            .collect()
    }

    /// Sets `key` to `value` (insert or replace), and tells every replica.
    pub async fn setting_put(
        &self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let text = value.to_string();
        self.bounded(self.driver.setting_put(key, &text)).await?;
        self.announce_settings_change().await;
        Ok(())
    }

    /// Removes `key` (false when it was not set), and tells every replica.
    pub async fn setting_delete(&self, key: &str) -> Result<bool, StoreError> {
        let deleted = self.bounded(self.driver.setting_delete(key)).await?;
        if deleted {
            self.announce_settings_change().await;
        }
        Ok(deleted)
    }
}
