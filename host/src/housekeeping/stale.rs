//! Stale jobs: a job with a `stale_after` that has not succeeded for that long (by the
//! database clock; counted from its creation when it never succeeded) is stale. The leader
//! looks every [`STALE_CHECK_INTERVAL`], marks each newly stale job in the database and
//! publishes `job.stale` for it, and removes the mark with `job.recovered` once it succeeded
//! again. A mark is written (and removed) by one statement that only one caller can win, so
//! each event is published once even when the lease changes hands mid-pass. Paused jobs run
//! nothing and are not reported stale.

use std::collections::HashSet;
use std::time::Duration;

use crate::alerts::Alert;
use crate::cluster::Leadership;
use crate::events::{Event, Publisher, instant};
use crate::store::{Job, RunFilter, RunPage, RunStatus, Store, StoreError};

/// How often the leader looks for jobs that became stale or recovered.
pub const STALE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Jobs read per page of a pass.
const PAGE: i64 = 500;

/// Look for stale jobs every [`STALE_CHECK_INTERVAL`] while this replica leads, until `stop`.
pub async fn watch_stale(
    store: Store,
    events: Publisher,
    leadership: Leadership,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(STALE_CHECK_INTERVAL) => {}
        }
        if leadership.confirmed().await.is_none() {
            continue;
        }
        if let Err(e) = pass(&store, &events).await {
            tracing::warn!(error = %e, "cannot check for stale jobs");
        }
    }
}

/// One look at every job.
async fn pass(store: &Store, events: &Publisher) -> Result<(), StoreError> {
    let marked: HashSet<String> = store.stale_jobs().await?.into_iter().collect();
    let mut pages = store.job_pages(PAGE);
    while let Some(jobs) = pages.next().await? {
        for job in &jobs {
            check(store, events, job, marked.contains(&job.id)).await?;
        }
    }
    Ok(())
}

async fn check(
    store: &Store,
    events: &Publisher,
    job: &Job,
    marked: bool,
) -> Result<(), StoreError> {
    let after = match job.failure.stale_after_ms {
        Some(after) if !job.paused => after,
        _ => {
            if marked {
                store.clear_stale(&job.id).await?;
            }
            return Ok(());
        }
    };
    let last_success = store.last_success_ms(&job.id).await?;
    let now = store.now_ms().await?;
    let stale = now - last_success.unwrap_or(job.created_at_ms) > after;
    if stale && !marked && store.mark_stale(&job.id).await? {
        tracing::warn!(job = %job.name, last_success = ?last_success, "job is stale");
        events.publish(Event::JobStale {
            job_id: job.id.clone(),
            job: job.name.clone(),
            last_success_at: last_success.map(instant),
        });
        let since = last_success.unwrap_or(job.created_at_ms);
        let job_ref = (job.id.as_str(), job.name.as_str());
        events.alert(Alert::job_stale(job_ref, since, last_success.is_some()));
    } else if !stale && marked && store.clear_stale(&job.id).await? {
        tracing::info!(job = %job.name, "job recovered: it succeeded again");
        events.publish(Event::JobRecovered {
            job_id: job.id.clone(),
            job: job.name.clone(),
        });
        // Keyed by the tick that succeeded, as the owner keys a recovery after failures.
        let succeeded = RunFilter {
            job_id: Some(job.id.clone()),
            status: Some(RunStatus::Succeeded),
            ..RunFilter::default()
        };
        let newest = RunPage {
            limit: 1,
            before: None,
        };
        let tick = store
            .list_runs(&succeeded, &newest)
            .await?
            .first()
            .map_or(last_success.unwrap_or(now), |run| run.scheduled_at_ms);
        events.alert(Alert::job_recovered(
            (job.id.as_str(), job.name.as_str()),
            tick,
        ));
    }
    Ok(())
}
