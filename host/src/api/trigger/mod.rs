//! `POST /api/v1/jobs/{id}/trigger`: run a job now, as a tick at the database's current
//! instant, recorded `manual`.
//!
//! Any replica accepts the request; the tick is written to `manual_triggers` with its instant
//! fixed, and the job's **owner** runs it (its [`worker`] polls for triggers of the jobs it
//! owns every 250 ms, and is woken at once when the request arrived at the owner itself). The
//! owner's scheduler runs it exactly like a scheduled tick: the run row is inserted with the
//! owner's fencing epoch before the plugin is called (so a trigger runs at most once), it
//! takes a slot of `scheduler.max_concurrent_runs`, counts for the job's overlap policy (a
//! tick due meanwhile is skipped or queued), is cancelled if the job is fenced, and is waited
//! for by a handoff or a graceful shutdown. While a run of the job is in progress (overlap
//! policy other than `allow`) it waits for that run and starts as soon as it ends, ahead of
//! queued and catch-up ticks. It waits while the maintenance switch is on; a trigger no owner
//! takes within an hour is dropped. A paused job can be triggered.
//!
//! 409 when the job's overlap policy is `skip` or `queue` and a run of it is in progress.

pub mod worker;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::state::ApiState;
use crate::events::{Event, JobChange, publish};
use crate::schedule::OverlapPolicy;

/// The answer to a trigger: the tick that will run.
#[derive(Debug, Serialize, Deserialize)]
pub struct TriggerView {
    pub job_id: String,
    pub job: String,
    pub scheduled_at: String,
    pub manual: bool,
    pub status: String,
    pub owner: Option<String>,
}

pub async fn trigger(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TriggerView>), ApiError> {
    let replica = &state.replica;
    let job = super::jobs::find(replica, &id).await?;
    let overlap = job.overlap.parse::<OverlapPolicy>().unwrap_or_default();
    if overlap != OverlapPolicy::Allow && replica.store.running_count(&job.id).await? > 0 {
        return Err(ApiError::conflict(
            "overlap",
            format!(
                "job {:?} has a run in progress and its overlap policy is {}: not triggered",
                job.name, job.overlap
            ),
        ));
    }
    let at = replica.store.insert_trigger(&job.id).await?;
    crate::metrics::global().manual_trigger();
    publish(
        &replica.store,
        Event::job_changed(&job, JobChange::Triggered),
    );
    if job.owner.as_deref() == Some(replica.options.instance_id.as_str()) {
        state.triggers.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(TriggerView {
            job_id: job.id,
            job: job.name,
            scheduled_at: crate::events::instant(at),
            manual: true,
            status: "queued".into(),
            owner: job.owner,
        }),
    ))
}
