//! `/api/v1/jobs-file`: the jobs file of the replica that answers — the version it read, the
//! version the cluster's jobs match, and why the newest version was refused, if it was.

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ErrorBody};
use super::state::ApiState;
use crate::jobs_file::JobsFileStatus;

/// Read the jobs file's status
#[utoipa::path(get, path = "/jobs-file", tag = "jobs", operation_id = "getJobsFile",
    responses(
        (status = 200, description = "The jobs file as this replica sees it", body = JobsFileStatus),
        (status = 404, description = "This replica has no jobs file (--jobs-file)", body = ErrorBody),
    ))]
pub async fn get(State(state): State<ApiState>) -> Result<Json<JobsFileStatus>, ApiError> {
    state.jobs_file.get().map(Json).ok_or_else(|| {
        ApiError::not_found("this replica has no jobs file (start it with --jobs-file)")
    })
}
