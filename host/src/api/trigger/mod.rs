//! `POST /api/v1/jobs/{id}/trigger`: run a job now, as a tick at the database's current
//! instant, recorded `manual`.
//!
//! Any replica accepts the request; the tick is written to `manual_triggers` with its instant
//! fixed, and the job's **owner** runs it (its scheduler's trigger feeder,
//! [`crate::scheduler::feed_triggers`], polls for triggers of the jobs it owns every 250 ms,
//! and is woken at once when the request arrived at the owner itself). The
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

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Path;
use super::jobs::JobId;
use super::state::ApiState;
use crate::settings::Identity;

/// Where an accepted trigger stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerStatus {
    /// Written down; the job's owner runs it.
    Queued,
}

/// The answer to a trigger: the tick that will run.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Trigger)]
pub struct TriggerView {
    pub job_id: String,
    /// The job's name.
    pub job: String,
    /// The tick's instant: the database's clock when the trigger was accepted.
    #[schema(format = DateTime)]
    pub scheduled_at: String,
    pub manual: bool,
    pub status: TriggerStatus,
    /// The replica that will run it; null while no replica has claimed the job.
    #[schema(required = true)]
    pub owner: Option<String>,
}

/// Run a job now (a manual tick at the current instant)
#[utoipa::path(post, path = "/jobs/{id}/trigger", tag = "jobs", operation_id = "triggerJob",
    params(JobId),
    responses(
        (status = 202, description = "The tick that the job's owner will run", body = TriggerView),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "A run is in progress and the overlap policy is not allow", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn trigger(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(JobId { id }): Path<JobId>,
) -> Result<(StatusCode, Json<TriggerView>), ApiError> {
    let (job, at) = state.jobs.trigger(&id, &identity.actor()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TriggerView {
            job_id: job.id,
            job: job.name,
            scheduled_at: crate::events::instant(at),
            manual: true,
            status: TriggerStatus::Queued,
            owner: job.owner,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_trigger_answers_the_tick_it_queued() {
        let view = TriggerView {
            job_id: "0b7c".into(),
            job: "nightly".into(),
            scheduled_at: crate::events::instant(0),
            manual: true,
            status: TriggerStatus::Queued,
            owner: None,
        };
        assert_eq!(
            serde_json::to_value(view).unwrap(),
            json!({"job_id": "0b7c", "job": "nightly", "scheduled_at": "1970-01-01T00:00:00.000Z",
                   "manual": true, "status": "queued", "owner": null})
        );
    }
}
