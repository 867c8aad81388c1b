//! Raising alerts: [`AlertQueue::raise`] never blocks its caller; one writer
//! ([`AlertWriter`]) writes each alert into the outbox, one row per webhook that wants its
//! event, in the order raised (so a job's alerts are delivered in that order).
//!
//! A row's key is the fact's key and the webhook's, so an alert raised twice (by two
//! replicas observing the same plugin failure, by a leader that changed mid-pass) is written
//! once. A write that fails is tried again for a while: unlike an event, an alert is what an
//! operator waits for.

use std::time::Duration;

use tokio::sync::mpsc;

use super::body::Alert;
use crate::settings::SettingsCache;
use crate::store::{NewAlert, Store};

/// How long a stopping writer may still write what was queued.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);
/// Tries of one row's write.
const WRITE_TRIES: u32 = 8;

/// Where this replica raises alerts. Cheap to clone; clones share the queue.
#[derive(Clone, Debug)]
pub struct AlertQueue {
    tx: mpsc::UnboundedSender<Alert>,
}

impl AlertQueue {
    /// A queue and the writer that writes what is raised into `store`'s outbox, for the
    /// webhooks `settings` configures.
    pub fn new(store: Store, settings: SettingsCache) -> (AlertQueue, AlertWriter) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            AlertQueue { tx },
            AlertWriter {
                store,
                settings,
                rx,
            },
        )
    }

    /// Queue `alert`; returns at once.
    pub fn raise(&self, alert: Alert) {
        if let Err(e) = self.tx.send(alert) {
            tracing::warn!(event = %e.0.event, "alert writer stopped: alert dropped");
        }
    }
}

/// Writes raised alerts into the outbox, in order.
#[derive(Debug)]
pub struct AlertWriter {
    store: Store,
    settings: SettingsCache,
    rx: mpsc::UnboundedReceiver<Alert>,
}

impl AlertWriter {
    /// Write alerts as they come until `stop`; then what is queued, for at most a few
    /// seconds.
    pub async fn run(mut self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                alert = self.rx.recv() => match alert {
                    Some(alert) => self.write(&alert).await,
                    None => return,
                },
            }
        }
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        while tokio::time::Instant::now() < deadline {
            match self.rx.try_recv() {
                Ok(alert) => self.write(&alert).await,
                Err(_) => return,
            }
        }
        if !self.rx.is_empty() {
            tracing::warn!(
                queued = self.rx.len(),
                "alert writer stopped with alerts not written"
            );
        }
    }

    /// One row per webhook that wants the alert.
    async fn write(&self, alert: &Alert) {
        let settings = self.settings.get();
        let key = alert.key();
        let body = alert.body().to_string();
        for hook in settings.webhooks.iter().filter(|h| h.wants(alert.event)) {
            let row = NewAlert {
                dedup_key: format!("{key}@{}", hook.key()),
                event: alert.event.as_str().to_owned(),
                job_id: alert.job.as_ref().map(|(id, _)| id.clone()),
                job_name: alert.job.as_ref().map(|(_, name)| name.clone()),
                target: hook.key(),
                host: hook.host(),
                body: body.clone(),
            };
            let mut wait = Duration::from_millis(200);
            for attempt in 1..=WRITE_TRIES {
                match self.store.enqueue_alert(&row).await {
                    Ok(_) => break,
                    Err(e) if attempt == WRITE_TRIES => {
                        tracing::error!(error = %e, event = %alert.event, "cannot write an alert into the outbox: alert lost");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, event = %alert.event, "cannot write an alert into the outbox yet");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(10));
                    }
                }
            }
        }
    }
}
