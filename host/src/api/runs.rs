//! `/api/v1/runs` and `/api/v1/jobs/{id}/runs`: newest first, keyset-paginated.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query, page_limit};
use super::jobs::JobId;
use super::schema::serde_names;
use super::state::ApiState;
use super::views::{Page, RunView};
use crate::store::{RunCursor, RunFilter, RunPage, RunStatus};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only runs of this job (id or name); ignored under `/jobs/{id}/runs`.
    job: Option<String>,
    /// Only runs with this status.
    #[param(value_type = Option<RunStatus>)]
    status: Option<String>,
    /// Only ticks scheduled at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Only ticks scheduled before this instant (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Cursor: `next` of the previous page.
    before: Option<String>,
}

/// "a, b or c".
fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn instant(field: &str, value: &str) -> Result<i64, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
        .map_err(|e| ApiError::invalid(field, format!("{field} must be an RFC 3339 instant: {e}")))
}

fn cursor(value: &str) -> Result<RunCursor, ApiError> {
    let bad = || {
        ApiError::invalid(
            "before",
            "before must be a cursor from a previous page's `next`",
        )
    };
    let (at, id) = value.split_once('.').ok_or_else(bad)?;
    Ok(RunCursor {
        scheduled_at_ms: at.parse().map_err(|_| bad())?,
        id: id.parse().map_err(|_| bad())?,
    })
}

async fn query(
    state: &ApiState,
    job_id: Option<String>,
    q: RunsQuery,
) -> Result<Json<Page<RunView>>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<RunStatus>().map_err(|_| {
            ApiError::invalid(
                "status",
                format!(
                    "status must be {}, not {s:?}",
                    one_of(serde_names::<RunStatus>())
                ),
            )
        })?),
    };
    let limit = page_limit(q.limit)?;
    let filter = RunFilter {
        job_id,
        status,
        from_ms: q.from.as_deref().map(|v| instant("from", v)).transpose()?,
        to_ms: q.to.as_deref().map(|v| instant("to", v)).transpose()?,
    };
    let page = RunPage {
        limit,
        before: q.before.as_deref().map(cursor).transpose()?,
    };
    let runs = state.store.list_runs(&filter, &page).await?;
    let next = (runs.len() as i64 == limit)
        .then(|| {
            runs.last()
                .map(|r| format!("{}.{}", r.scheduled_at_ms, r.id))
        })
        .flatten();
    Ok(Json(Page {
        items: runs.into_iter().map(RunView::from).collect(),
        next,
    }))
}

/// Runs of all jobs, newest first
#[utoipa::path(get, path = "/runs", tag = "runs", operation_id = "listRuns",
    params(RunsQuery),
    responses(
        (status = 200, description = "A page of runs", body = Page<RunView>),
        (status = 400, description = "An invalid filter or cursor", body = ErrorBody),
        (status = 404, description = "No such job (the `job` filter)", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Page<RunView>>, ApiError> {
    let job_id = match &q.job {
        Some(j) => Some(state.jobs.find(j).await?.id),
        None => None,
    };
    query(&state, job_id, q).await
}

/// Runs of a job, newest first
#[utoipa::path(get, path = "/jobs/{id}/runs", tag = "runs", operation_id = "listJobRuns",
    params(JobId, RunsQuery),
    responses(
        (status = 200, description = "A page of runs", body = Page<RunView>),
        (status = 400, description = "An invalid filter or cursor", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list_for_job(
    State(state): State<ApiState>,
    Path(JobId { id }): Path<JobId>,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Page<RunView>>, ApiError> {
    let job = state.jobs.find(&id).await?;
    query(&state, Some(job.id), q).await
}
