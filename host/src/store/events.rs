//! The cluster's event history (what `GET /api/v1/events` streams) and manual triggers
//! (`POST /api/v1/jobs/{id}/trigger` requests waiting for the job's owner).
//!
//! Every appended event is announced on [`EVENTS_CHANNEL`] where the engine has change
//! notifications ([`super::notify`]), so the replicas' listeners wake at once; elsewhere
//! readers poll.

use serde_json::Value;

use super::error::StoreError;
use super::notify::ChangeListener;
use super::{Job, Store};

/// The notification channel that announces new events.
pub const EVENTS_CHANNEL: &str = "wasmcron_events";

/// One persisted event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Position in the history (increasing; the SSE `id`).
    pub id: i64,
    /// When it was published (database clock).
    pub at_ms: i64,
    /// Kind, such as `run.finished`.
    pub kind: String,
    /// Kind-specific fields.
    pub payload: Value,
}

/// A manual trigger waiting for its job's owner.
#[derive(Debug, Clone)]
pub struct PendingTrigger {
    /// Trigger id.
    pub id: i64,
    /// The tick's instant (fixed when the trigger was accepted).
    pub scheduled_at_ms: i64,
    /// The job, as stored now (owner and epoch included).
    pub job: Job,
}

impl Store {
    /// Appends an event; returns its id. Listeners are notified where the engine has them.
    pub async fn append_event(&self, kind: &str, payload: &Value) -> Result<i64, StoreError> {
        let text = payload.to_string();
        let driver = &self.driver;
        self.bounded(async {
            let id = driver.append_event(kind, &text).await?;
            driver.notify(EVENTS_CHANNEL, &id.to_string()).await?;
            Ok(id)
        })
        .await
    }

    /// Appends `(kind, payload)` events in order, in one transaction at one database instant;
    /// listeners are notified once (on PostgreSQL by the same statement).
    pub async fn append_events(&self, events: &[(&str, Value)]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let texts: Vec<(&str, String)> = events
            .iter()
            .map(|(kind, payload)| (*kind, payload.to_string()))
            .collect();
        self.bounded(self.driver.append_events(&texts)).await
    }

    /// Up to `limit` events with an id above `after`, oldest first.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.bounded(self.driver.events_after(after, limit)).await
    }

    /// The newest event id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        Ok(self
            .bounded(self.driver.last_event_id())
            .await?
            .unwrap_or(0))
    }

    /// A subscription to [`EVENTS_CHANNEL`] on a dedicated connection; `None` where the
    /// engine has no change notifications.
    pub async fn event_listener(&self) -> Result<Option<ChangeListener>, StoreError> {
        self.listen_to(&[EVENTS_CHANNEL]).await
    }

    /// Records a manual trigger of `job_id` at the database's current instant; returns the
    /// tick's instant. Two triggers in the same millisecond are one.
    pub async fn insert_trigger(&self, job_id: &str) -> Result<i64, StoreError> {
        self.bounded(self.driver.insert_trigger(job_id))
            .await?
            .ok_or_else(|| StoreError::JobNotFound(job_id.to_string()))
    }

    /// Manual triggers of the jobs `instance` owns, oldest first.
    pub async fn owned_triggers(&self, instance: &str) -> Result<Vec<PendingTrigger>, StoreError> {
        self.bounded(self.driver.owned_triggers(instance)).await
    }

    /// Removes a trigger (taken, or expired).
    pub async fn delete_trigger(&self, id: i64) -> Result<(), StoreError> {
        self.bounded(self.driver.delete_trigger(id)).await
    }
}
