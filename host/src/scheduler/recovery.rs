//! `job.recovered` after failures: a tick whose run succeeded, when the job's previous decided
//! tick ended failed (its newest attempt failed or timed out), is the job's recovery. Checked
//! off the run's path (a read of the job's newest runs), and only while a webhook wants
//! `job.recovered`: a cluster without such a webhook pays nothing per run. The alert's fact is
//! the succeeding tick, so replicas that both observe it (a handoff mid-run) write it once.
//! A job marked stale recovers through the stale watcher ([`crate::housekeeping`]) instead,
//! so a job that was both failing and stale is reported recovered once.

use super::execute::Executor;
use crate::alerts::Alert;
use crate::events::{Event, Publisher};
use crate::jobs::JobSpec;
use crate::settings::{AlertEvent, SettingsCache};
use crate::store::{RunFilter, RunPage, RunStatus, Store, StoreError};

/// Runs read to find the previous decided tick: ticks skipped, missed or still running are
/// passed over, up to this many rows.
const LOOK_BACK: i64 = 32;

/// Tick `tick_ms` of `job` succeeded (its finish recorded): check for a recovery in a task of
/// its own, while a webhook wants `job.recovered`.
pub(super) fn after_success(executor: &Executor, job: &JobSpec, tick_ms: i64) {
    if wanted(&executor.settings) {
        let job_ref = (job.id.clone(), job.name.clone());
        let (store, events) = (executor.store.clone(), executor.events.clone());
        tokio::spawn(check(store, events, job_ref, tick_ms));
    }
}

/// Whether any configured webhook wants `job.recovered`.
fn wanted(settings: &SettingsCache) -> bool {
    settings
        .get()
        .webhooks
        .iter()
        .any(|h| h.wants(AlertEvent::JobRecovered))
}

/// Whether the newest decided tick of job `id` before `tick_ms` ended failed.
async fn failing_before(store: &Store, id: &str, tick_ms: i64) -> Result<bool, StoreError> {
    let filter = RunFilter {
        job_id: Some(id.to_owned()),
        to_ms: Some(tick_ms),
        ..RunFilter::default()
    };
    let page = RunPage {
        limit: LOOK_BACK,
        before: None,
    };
    // Newest tick first, and within a tick the newest attempt first: the first decided run
    // is the previous tick's last word.
    for run in store.list_runs(&filter, &page).await? {
        match run.status {
            RunStatus::Failed | RunStatus::TimedOut => return Ok(true),
            RunStatus::Succeeded => return Ok(false),
            RunStatus::Running | RunStatus::Skipped | RunStatus::Missed => {}
        }
    }
    Ok(false)
}

/// After tick `tick_ms` of job `(id, name)` succeeded: publish `job.recovered` and raise its
/// alert when the previous decided tick had failed.
async fn check(store: Store, events: Publisher, (id, name): (String, String), tick_ms: i64) {
    let recovered = match failing_before(&store, &id, tick_ms).await {
        Ok(true) => store.stale_jobs().await.map(|stale| !stale.contains(&id)),
        other => other,
    };
    match recovered {
        Ok(true) => {
            tracing::info!(job = %name, "job recovered: a tick succeeded after failed ones");
            events.publish(Event::JobRecovered {
                job_id: id.clone(),
                job: name.clone(),
            });
            events.alert(Alert::job_recovered((&id, &name), tick_ms));
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, job = %name, "cannot check whether the job recovered"),
    }
}
