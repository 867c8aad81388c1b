//! The owner's side of manual triggers: offer the pending triggers of the jobs this replica
//! owns to its scheduler, which runs each like a tick of the job (see [`Command::Manual`]).
//! A trigger stays pending until its tick is recorded, so one the scheduler cannot start yet
//! (the job busy, the maintenance switch on, the job not taken yet) is offered again.
//!
//! Triggers accepted by any replica are found by polling every [`TRIGGER_POLL_INTERVAL`];
//! one accepted by this replica for a job it owns wakes the feeder at once
//! ([`ChangeSignal::trigger_added`]).

use std::time::Duration;

use super::command::{Command, SchedulerHandle};
use crate::jobs::{ChangeSignal, JobSpec};
use crate::store::Store;

/// How often the owner looks for triggers accepted by other replicas.
pub const TRIGGER_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Offer the pending triggers of the jobs `instance_id` owns to `scheduler` until `stop`.
pub async fn feed_triggers(
    store: Store,
    instance_id: String,
    scheduler: SchedulerHandle,
    signal: ChangeSignal,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = signal.trigger() => {}
            _ = tokio::time::sleep(TRIGGER_POLL_INTERVAL) => {}
        }
        let triggers = match store.owned_triggers(&instance_id).await {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read manual triggers");
                continue;
            }
        };
        for trigger in triggers {
            if let Err(e) = JobSpec::from_job(&trigger.job) {
                tracing::warn!(job = %trigger.job.name, error = %e, "manual trigger of an invalid job dropped");
                let _ = store.delete_trigger(trigger.id).await;
                continue;
            }
            scheduler.send(Command::Manual {
                job_id: trigger.job.id,
                tick_ms: trigger.scheduled_at_ms,
                trigger_id: trigger.id,
            });
        }
    }
}
