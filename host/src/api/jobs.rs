//! `/api/v1/jobs`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::error::ApiError;
use super::state::ApiState;
use super::views::{JobView, Page};
use crate::jobs::JobFields;
use crate::store::{Job, JobFilter, JobPage, RunFilter, RunPage};

/// Turn a body rejection into the API's error shape (invalid JSON, unknown field, too large).
pub fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    match body {
        Ok(Json(v)) => Ok(v),
        Err(JsonRejection::JsonDataError(e)) => {
            let text = e.body_text();
            let field = text
                .split("unknown field `")
                .nth(1)
                .and_then(|r| r.split('`').next())
                .map(str::to_string);
            Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                code: if field.is_some() {
                    "unknown_field"
                } else {
                    "invalid_body"
                },
                message: text,
                field,
            })
        }
        Err(JsonRejection::JsonSyntaxError(e)) => {
            Err(ApiError::bad_request("invalid_json", e.body_text()))
        }
        Err(JsonRejection::MissingJsonContentType(e)) => {
            Err(ApiError::bad_request("invalid_content_type", e.body_text()))
        }
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
            message: format!(
                "request body is larger than {} bytes",
                super::MAX_BODY_BYTES
            ),
            field: None,
        }),
        Err(e) => Err(ApiError::bad_request("invalid_body", e.body_text())),
    }
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
    let mut view = JobView::new(job, state.clock.now_ms(), last);
    if state.plugins.get(&view.plugin).is_err() {
        view.warning = Some(format!(
            "plugin {:?} is not loaded (yet): its runs fail until {}.wasm is in the plugins directory",
            view.plugin, view.plugin
        ));
    }
    Ok(view)
}

pub async fn create(
    State(state): State<ApiState>,
    fields: Result<Json<JobFields>, JsonRejection>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let job = state.jobs.create(&body(fields)?).await?;
    Ok((StatusCode::CREATED, Json(view(&state, job).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    plugin: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

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
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be from 1 to 1000"));
    }
    let jobs = state
        .store
        .list_jobs(
            &JobFilter {
                plugin: q.plugin,
                paused,
                owner: None,
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

pub async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.find(&id).await?;
    Ok(Json(view(&state, job).await?))
}

pub async fn update(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    fields: Result<Json<JobFields>, JsonRejection>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.update(&id, &body(fields)?).await?;
    Ok(Json(view(&state, job).await?))
}

pub async fn delete(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.jobs.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pause(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.set_paused(&id, true).await?;
    Ok(Json(view(&state, job).await?))
}

pub async fn resume(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.jobs.set_paused(&id, false).await?;
    Ok(Json(view(&state, job).await?))
}
