//! Publishing: one ordered queue per replica. [`Publisher::publish`] never blocks its caller;
//! one writer ([`EventWriter`]) persists the events in the order they were published, so a
//! run's `run.started` is always stored before its `run.finished`. What was queued while a
//! write was under way goes in the next one, in one transaction (a multi-row statement): at
//! thousands of runs a second one statement per event would fall behind. A failed write is
//! logged and its events dropped: an event is worth less than the work that produced it.

use tokio::sync::mpsc;

use super::Event;
use crate::alerts::{Alert, AlertQueue};
use crate::store::Store;

/// The most events written in one transaction: whatever was queued while the previous write
/// was under way, up to this.
pub const BATCH: usize = 1_000;

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
    /// Write events as they come until `stop`, every event queued meanwhile in the same
    /// statement (up to [`BATCH`]); then write what is queued (for at most [`DRAIN_LIMIT`]) and
    /// return.
    pub async fn run(mut self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                received = self.rx.recv_many(&mut batch, BATCH) => {
                    if received == 0 {
                        return;
                    }
                    self.write(&mut batch).await;
                }
            }
        }
        // What was queued when the stop came is still written, for at most DRAIN_LIMIT (a
        // writer that fell behind, e.g. through a slow link, must not hold the shutdown past
        // the grace period); nothing published later.
        let queued = self.rx.len();
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        let mut written = 0;
        while written < queued && tokio::time::Instant::now() < deadline {
            while batch.len() < BATCH.min(queued - written) {
                match self.rx.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                break;
            }
            written += batch.len();
            self.write(&mut batch).await;
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

    /// Stores `batch` (emptied) in one transaction.
    async fn write(&self, batch: &mut Vec<Event>) {
        let events: Vec<(&str, serde_json::Value)> =
            batch.iter().map(|e| (e.kind(), e.payload())).collect();
        match self.store.append_events(&events).await {
            Ok(()) => crate::metrics::global().events_published(events.len() as u64),
            Err(e) => tracing::debug!(
                error = %e,
                events = events.len(),
                "cannot persist events"
            ),
        }
        batch.clear();
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

    #[tokio::test]
    async fn a_burst_is_stored_whole_and_in_order_while_the_writer_runs() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let (publisher, writer) = Publisher::new(store.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let writing = tokio::spawn(writer.run(async {
            let _ = stopped.await;
        }));
        let burst = 2 * BATCH + 500;
        for version in 0..burst {
            publisher.publish(Event::JobChanged {
                job_id: "j".into(),
                job: "job".into(),
                change: JobChange::Updated,
                version: version as i64,
            });
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let stored = loop {
            let stored = store.events_after(0, 10_000).await.unwrap();
            if stored.len() == burst || tokio::time::Instant::now() > deadline {
                break stored;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        let versions: Vec<i64> = stored
            .iter()
            .map(|e| e.payload["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, (0..burst as i64).collect::<Vec<_>>());
        stop.send(()).unwrap();
        writing.await.unwrap();
    }
}
