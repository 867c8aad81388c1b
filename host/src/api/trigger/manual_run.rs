//! Running one manual trigger: record the tick (fenced by the owner's epoch), delete the
//! trigger, call the plugin on a task, record the outcome.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::events::{Event, publish};
use crate::replica::Replica;
use crate::runtime::{RunOutcome, RunRequest, RunStatus};
use crate::scheduler::JobSpec;
use crate::store::events::PendingTrigger;
use crate::store::{BeginRun, FinishRun, Finished, NewRun, RunStatus as StoredStatus};

/// Take one trigger. A trigger whose job is now fenced stays for the new owner.
pub async fn start(replica: &Arc<Replica>, trigger: PendingTrigger) {
    let instance_id = replica.options.instance_id.clone();
    let spec = match JobSpec::from_job(&trigger.job) {
        Ok(spec) => Arc::new(spec),
        Err(e) => {
            tracing::warn!(job = %trigger.job.name, error = %e, "manual trigger of an invalid job dropped");
            let _ = replica.store.delete_trigger(trigger.id).await;
            return;
        }
    };
    let plugin = replica.runtime.plugins.get(&spec.plugin);
    let digest = plugin.as_ref().ok().map(|p| p.digest.clone());
    let begin = replica
        .store
        .begin_run(&NewRun {
            job_id: spec.id.clone(),
            scheduled_at_ms: trigger.scheduled_at_ms,
            instance_id: instance_id.clone(),
            epoch: spec.epoch,
            plugin_digest: digest,
            attempt: 1,
            catch_up: false,
            manual: true,
        })
        .await;
    let run_id = match begin {
        Ok(BeginRun::Started(id)) => id,
        Ok(BeginRun::AlreadyRecorded) => {
            let _ = replica.store.delete_trigger(trigger.id).await;
            return;
        }
        Ok(BeginRun::Fenced) => {
            crate::metrics::global().fenced("begin");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot record a manual tick; retrying");
            return;
        }
    };
    if let Err(e) = replica.store.delete_trigger(trigger.id).await {
        // Harmless: the tick is recorded, a second take finds it already recorded.
        tracing::debug!(error = %e, "cannot delete a taken manual trigger");
    }
    crate::metrics::global().tick_fired_at(trigger.scheduled_at_ms);
    publish(
        &replica.store,
        Event::run_started(
            &spec,
            run_id,
            trigger.scheduled_at_ms,
            &instance_id,
            false,
            true,
        ),
    );
    let replica = replica.clone();
    tokio::spawn(async move {
        let span = tracing::info_span!(
            "run",
            job = %spec.name,
            job_id = %spec.id,
            tick = trigger.scheduled_at_ms,
            instance = %instance_id,
            manual = true,
        );
        let outcome = async {
            match plugin {
                Ok(plugin) => {
                    plugin
                        .run(
                            &replica.runtime.engine,
                            request(&replica, &spec, trigger.scheduled_at_ms),
                        )
                        .await
                }
                Err(e) => RunOutcome::failed(e.to_string()),
            }
        }
        .instrument(span)
        .await;
        finish(&replica, &spec, run_id, trigger.scheduled_at_ms, outcome).await;
    });
}

fn request(replica: &Replica, job: &Arc<JobSpec>, tick_ms: i64) -> RunRequest {
    crate::scheduler::run_request(
        &replica.store,
        &replica.settings,
        &replica.options.instance_id,
        job,
        tick_ms,
        false,
    )
}

/// Record the outcome, retrying while the database is unreachable (for up to a minute).
async fn finish(replica: &Replica, spec: &JobSpec, run_id: i64, tick_ms: i64, outcome: RunOutcome) {
    let status = match outcome.status {
        RunStatus::Succeeded => StoredStatus::Succeeded,
        RunStatus::Failed => StoredStatus::Failed,
        RunStatus::TimedOut => StoredStatus::TimedOut,
    };
    crate::metrics::global().run_finished(status.as_str(), outcome.duration);
    publish(
        &replica.store,
        Event::run_finished(
            spec,
            run_id,
            tick_ms,
            &replica.options.instance_id,
            &outcome,
        ),
    );
    let finish = FinishRun {
        status,
        result: outcome.result,
        error: outcome.error,
        logs: Some(outcome.logs),
    };
    let mut backoff = Duration::from_millis(100);
    for _ in 0..20 {
        match replica.store.finish_run(run_id, spec.epoch, &finish).await {
            Ok(Finished::Ok) => return,
            Ok(Finished::Fenced) => {
                crate::metrics::global().fenced("finish");
                tracing::warn!(run_id, "manual run finished after its job was fenced");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, run_id, "cannot record a manual run's outcome; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
