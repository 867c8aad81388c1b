//! `/api/v1/jobs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{self, Path, Query, page_limit};
use super::schema::JobCreate;
use super::state::ApiState;
use super::views::{JobStatus, JobView, Page};
use crate::jobs::JobFields;
use crate::settings::Identity;
use crate::store::{Job, JobFilter, JobPage, RunFilter, RunPage};

/// The job a path names.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobId {
    /// Job id or name.
    pub id: String,
}

async fn view(state: &ApiState, job: Job) -> Result<JobView, ApiError> {
    let last = state
        .store
        .list_runs(
            &RunFilter {
                job_id: Some(job.id.clone()),
                ..RunFilter::default()
            },
            &RunPage {
                limit: 1,
                before: None,
            },
        )
        .await?
        .into_iter()
        .next();
    let last_success = state.store.last_success_ms(&job.id).await?;
    Ok(with_warning(
        state,
        JobView::new(job, state.clock.now_ms(), last, last_success),
    ))
}

/// A job just created: it has no runs yet, so nothing about them is read.
fn created_view(state: &ApiState, job: Job) -> JobView {
    with_warning(state, JobView::new(job, state.clock.now_ms(), None, None))
}

/// `view` with a warning when the job's plugin is not loaded.
fn with_warning(state: &ApiState, mut view: JobView) -> JobView {
    if state.plugins.get(&view.plugin).is_err() {
        view.warning = Some(format!(
            "plugin {:?} is not loaded (yet): its runs fail until {}.wasm is in the plugins directory",
            view.plugin, view.plugin
        ));
    }
    view
}

/// Create a job
#[utoipa::path(post, path = "/jobs", tag = "jobs", operation_id = "createJob",
    request_body = JobCreate,
    responses(
        (status = 201, description = "The created job", body = JobView),
        (status = 400, description = "Invalid JSON, or an unknown or invalid field (named in `field`)", body = ErrorBody),
        (status = 409, description = "A job of this name exists", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    extract::Json(fields): extract::Json<JobFields>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let job = state.jobs.create(&fields, &identity.actor()).await?;
    Ok((StatusCode::CREATED, Json(created_view(&state, job))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only jobs of this plugin.
    plugin: Option<String>,
    /// Only active or only paused jobs.
    #[param(value_type = Option<JobStatus>)]
    status: Option<String>,
    /// Only jobs whose name or plugin contains this text, letter case aside (at most 200
    /// characters).
    #[param(max_length = 200)]
    q: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Cursor: `next` of the previous page.
    after: Option<String>,
}

/// The longest text the job list searches for.
const MAX_SEARCH_CHARS: usize = 200;

/// List jobs by name
#[utoipa::path(get, path = "/jobs", tag = "jobs", operation_id = "listJobs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = Page<JobView>),
        (status = 400, description = "An invalid filter", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<JobView>>, ApiError> {
    let paused = match q.status.as_deref() {
        None => None,
        Some("paused") => Some(true),
        Some("active") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid(
                "status",
                format!("status must be active or paused, not {other:?}"),
            ));
        }
    };
    let limit = page_limit(q.limit)?;
    let search = q.q.filter(|text| !text.trim().is_empty());
    if search
        .as_ref()
        .is_some_and(|text| text.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(ApiError::invalid(
            "q",
            format!("q must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let jobs = state
        .store
        .list_jobs(
            &JobFilter {
                plugin: q.plugin,
                paused,
                owner: None,
                search: search.map(|text| text.trim().to_owned()),
            },
            &JobPage {
                limit,
                after_name: q.after,
            },
        )
        .await?;
    let next = (jobs.len() as i64 == limit)
        .then(|| jobs.last().map(|j| j.name.clone()))
        .flatten();
    let mut items = Vec::with_capacity(jobs.len());
    for job in jobs {
        items.push(view(&state, job).await?);
    }
    Ok(Json(Page { items, next }))
}

/// Read a job
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", operation_id = "getJob",
    params(JobId),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<ApiState>,
    Path(JobId { id }): Path<JobId>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.find(&id).await?;
    Ok(Json(view(&state, job).await?))
}

/// Edit some fields of a job (bumps its version)
#[utoipa::path(patch, path = "/jobs/{id}", tag = "jobs", operation_id = "updateJob",
    params(JobId),
    request_body = JobFields,
    responses(
        (status = 200, description = "The edited job", body = JobView),
        (status = 400, description = "Invalid JSON, or an unknown or invalid field (named in `field`)", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "A job of this name exists", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(JobId { id }): Path<JobId>,
    extract::Json(fields): extract::Json<JobFields>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.update(&id, &fields, &identity.actor()).await?;
    Ok(Json(view(&state, job).await?))
}

/// Delete a job with its runs and state
#[utoipa::path(delete, path = "/jobs/{id}", tag = "jobs", operation_id = "deleteJob",
    params(JobId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(JobId { id }): Path<JobId>,
) -> Result<StatusCode, ApiError> {
    state.jobs.delete(&id, &identity.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause a job: no tick fires until it is resumed
#[utoipa::path(post, path = "/jobs/{id}/pause", tag = "jobs", operation_id = "pauseJob",
    params(JobId),
    responses(
        (status = 200, description = "The paused job", body = JobView),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn pause(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(JobId { id }): Path<JobId>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.set_paused(&id, true, &identity.actor()).await?;
    Ok(Json(view(&state, job).await?))
}

/// Resume a paused job
#[utoipa::path(post, path = "/jobs/{id}/resume", tag = "jobs", operation_id = "resumeJob",
    params(JobId),
    responses(
        (status = 200, description = "The resumed job", body = JobView),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn resume(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(JobId { id }): Path<JobId>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.set_paused(&id, false, &identity.actor()).await?;
    Ok(Json(view(&state, job).await?))
}
