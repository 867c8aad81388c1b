//! The owner's side of manual triggers: offer the pending triggers of the jobs this replica
//! owns to its scheduler, which runs each like a tick of the job (see [`Command::Manual`]).
//! A trigger stays pending until its tick is recorded, so one the scheduler cannot start yet
//! (the job busy, the maintenance switch on, the job not taken yet) is offered again.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use crate::replica::Replica;
use crate::scheduler::{Command, JobSpec};

/// How often the owner looks for triggers accepted by other replicas.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Run until `replica` is dropped.
pub async fn run(replica: Weak<Replica>, wake: Arc<Notify>) {
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        let Some(replica) = replica.upgrade() else {
            return;
        };
        let triggers = match replica
            .store
            .owned_triggers(&replica.options.instance_id)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read manual triggers");
                continue;
            }
        };
        for trigger in triggers {
            if let Err(e) = JobSpec::from_job(&trigger.job) {
                tracing::warn!(job = %trigger.job.name, error = %e, "manual trigger of an invalid job dropped");
                let _ = replica.store.delete_trigger(trigger.id).await;
                continue;
            }
            replica.scheduler.send(Command::Manual {
                job_id: trigger.job.id,
                tick_ms: trigger.scheduled_at_ms,
                trigger_id: trigger.id,
            });
        }
    }
}
