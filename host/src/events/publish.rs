//! Publishing: one ordered queue per replica. [`Publisher::publish`] never blocks its caller;
//! one writer ([`EventWriter`]) persists the events in the order they were published, so a
//! run's `run.started` is always stored before its `run.finished`. A failed write is logged
//! and the event dropped: an event is worth less than the work that produced it.

use tokio::sync::mpsc;

use super::Event;
use crate::alerts::{Alert, AlertQueue};
use crate::store::Store;

/// How long a stopping writer may still write what was queued.
pub const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where this replica publishes events. Cheap to clone; clones share the queue.
#[derive(Clone, Debug)]
pub struct Publisher {
    tx: mpsc::UnboundedSender<Event>,
    /// Where alerts are raised, when this replica raises them.
    alerts: Option<AlertQueue>,
}

impl Publisher {
    /// A publisher and the writer that persists what it publishes into `store`.
    pub fn new(store: Store) -> (Publisher, EventWriter) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Publisher { tx, alerts: None }, EventWriter { store, rx })
    }

    /// This publisher, raising alerts on `alerts`.
    pub fn with_alerts(mut self, alerts: AlertQueue) -> Publisher {
        self.alerts = Some(alerts);
        self
    }

    /// Raise `alert` (see [`crate::alerts`]); returns at once. Nothing without an alert queue.
    pub fn alert(&self, alert: Alert) {
        if let Some(alerts) = &self.alerts {
            alerts.raise(alert);
        }
    }

    /// Queue `event`; returns at once. Dropped (and logged) once the writer has stopped.
    pub fn publish(&self, event: Event) {
        if let Err(e) = self.tx.send(event) {
            tracing::debug!(kind = e.0.kind(), "event writer stopped: event dropped");
        }
    }
}

/// Persists the published events, in order (and, where the engine notifies, wakes every
/// replica's subscribers).
#[derive(Debug)]
pub struct EventWriter {
    store: Store,
    rx: mpsc::UnboundedReceiver<Event>,
}

impl EventWriter {
    /// Write events as they come until `stop`; then write what is queued (for at most
    /// [`DRAIN_LIMIT`]) and return.
    pub async fn run(mut self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                event = self.rx.recv() => match event {
                    Some(event) => self.write(event).await,
                    None => return,
                },
            }
        }
        // What was queued when the stop came is still written, for at most DRAIN_LIMIT (a
        // writer that fell behind, e.g. one statement at a time through a transaction pooler,
        // must not hold the shutdown past the grace period); nothing published later.
        let queued = self.rx.len();
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        let mut written = 0;
        while written < queued && tokio::time::Instant::now() < deadline {
            match self.rx.try_recv() {
                Ok(event) => self.write(event).await,
                Err(_) => break,
            }
            written += 1;
        }
        if written < queued {
            tracing::warn!(
                queued,
                written,
                "event writer stopped before the queue was written: {} events not stored",
                queued - written
            );
        }
    }

    async fn write(&self, event: Event) {
        let kind = event.kind();
        match self.store.append_event(kind, &event.payload()).await {
            Ok(_) => crate::metrics::global().event_published(),
            Err(e) => tracing::debug!(error = %e, kind, "cannot persist event"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::JobChange;

    #[tokio::test]
    async fn events_are_stored_in_the_order_they_were_published() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let (publisher, writer) = Publisher::new(store.clone());
        let changes = [
            JobChange::Created,
            JobChange::Updated,
            JobChange::Paused,
            JobChange::Resumed,
            JobChange::Deleted,
        ];
        for (version, change) in changes.iter().enumerate() {
            publisher.publish(Event::JobChanged {
                job_id: "j".into(),
                job: "job".into(),
                change: *change,
                version: version as i64,
            });
        }
        // Stopped at once: what was queued is still written, in order.
        writer.run(async {}).await;
        let stored = store.events_after(0, 100).await.unwrap();
        let versions: Vec<i64> = stored
            .iter()
            .map(|e| e.payload["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, vec![0, 1, 2, 3, 4]);
        publisher.publish(Event::JobChanged {
            job_id: "j".into(),
            job: "job".into(),
            change: JobChange::Created,
            version: 9,
        });
        assert_eq!(store.events_after(0, 100).await.unwrap().len(), 5);
    }
}
