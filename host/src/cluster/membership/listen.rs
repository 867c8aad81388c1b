//! Change notifications from the other replicas (job writes, a replica joining, jobs handed
//! over), where the engine delivers them: each one wakes the membership loop to reconcile —
//! the job named, or every job.

use std::time::Duration;

use super::Membership;
use crate::store::notify::JOBS_CHANNEL;

impl Membership {
    /// Listen for change notifications (PostgreSQL) and poke the loop for each.
    pub(super) async fn listen(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut listener = loop {
            match self.store.listen().await {
                Ok(Some(listener)) => break listener,
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot listen for changes yet");
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                next = listener.next() => next,
            };
            match next {
                Ok(Some((channel, payload))) => {
                    tracing::trace!(%channel, %payload, "change notification");
                    if channel == JOBS_CHANNEL && !payload.is_empty() {
                        self.signal.job_changed_elsewhere(&payload);
                        continue;
                    }
                }
                // Reconnected: notifications may have been missed.
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "change notifications interrupted");
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            self.poke_local();
        }
    }
}
