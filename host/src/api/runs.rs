//! `/api/v1/runs` and `/api/v1/jobs/{id}/runs`: newest first, keyset-paginated.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::ApiError;
use super::state::ApiState;
use super::views::{Page, RunView};
use crate::store::{RunCursor, RunFilter, RunPage, RunStatus};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    job: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    before: Option<String>,
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
                format!("status must be running, succeeded, failed, timed_out, skipped or missed, not {s:?}"),
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be from 1 to 1000"));
    }
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

pub async fn list_for_job(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Page<RunView>>, ApiError> {
    let job = state.jobs.find(&id).await?;
    query(&state, Some(job.id), q).await
}
