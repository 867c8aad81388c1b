//! `/api/v1/jobs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::error::ApiError;
use super::job_fields::{JobFields, millis};
use super::views::{JobView, Page};
use crate::events::{Event, JobChange, publish};
use crate::replica::Replica;
use crate::settings::parse_bytes;
use crate::store::{Job, JobFilter, JobPage, JobPatch, NewJob, RunFilter, RunPage};

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

/// Create a job from validated fields (also used by the jobs file).
pub fn new_job(f: &JobFields) -> NewJob {
    let mut job = NewJob::new(
        f.name.clone().unwrap_or_default(),
        f.schedule.clone().unwrap_or_default(),
        f.plugin.clone().unwrap_or_default(),
    );
    if let Some(v) = &f.timezone {
        job.timezone = v.clone();
    }
    if let Some(v) = &f.input {
        job.input = v.clone();
    }
    if let Some(v) = &f.config {
        job.config = v.clone();
    }
    if let Some(v) = f.paused {
        job.paused = v;
    }
    if let Some(v) = &f.overlap {
        job.overlap = v.parse().unwrap_or_default();
    }
    if let Some(v) = &f.misfire {
        job.misfire = v.parse().unwrap_or_default();
    }
    if let Some(v) = &f.catchup_window {
        job.catchup_window_ms = millis(v);
    }
    if let Some(v) = &f.jitter {
        job.jitter_ms = millis(v);
    }
    if let Some(v) = &f.timeout {
        job.timeout_ms = Some(millis(v));
    }
    if let Some(v) = &f.memory_limit {
        job.memory_limit_bytes = parse_bytes(v).ok().map(|b| b as i64);
    }
    if let Some(v) = &f.allowed_hosts {
        job.allowed_hosts = v.clone();
    }
    job
}

fn patch(f: &JobFields) -> JobPatch {
    JobPatch {
        name: f.name.clone(),
        schedule: f.schedule.clone(),
        timezone: f.timezone.clone(),
        plugin: f.plugin.clone(),
        input: f.input.clone(),
        config: f.config.clone(),
        paused: f.paused,
        overlap: f.overlap.as_deref().map(|v| v.parse().unwrap_or_default()),
        misfire: f.misfire.as_deref().map(|v| v.parse().unwrap_or_default()),
        catchup_window_ms: f.catchup_window.as_deref().map(millis),
        jitter_ms: f.jitter.as_deref().map(millis),
        timeout_ms: f.timeout.as_deref().map(|t| Some(millis(t))),
        memory_limit_bytes: f
            .memory_limit
            .as_ref()
            .map(|m| parse_bytes(m).ok().map(|b| b as i64)),
        allowed_hosts: f.allowed_hosts.clone(),
    }
}

async fn view(replica: &Replica, job: Job) -> Result<JobView, ApiError> {
    let last = replica
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
    let mut view = JobView::new(job, replica.clock.now_ms(), last);
    if replica.runtime.plugins.get(&view.plugin).is_err() {
        view.warning = Some(format!(
            "plugin {:?} is not loaded (yet): its runs fail until {}.wasm is in the plugins directory",
            view.plugin, view.plugin
        ));
    }
    Ok(view)
}

pub(super) async fn find(replica: &Replica, id: &str) -> Result<Job, ApiError> {
    replica
        .store
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job with id or name {id:?}")))
}

pub async fn create(
    State(replica): State<Arc<Replica>>,
    fields: Result<Json<JobFields>, JsonRejection>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let fields = body(fields)?;
    fields.validate(true)?;
    let job = replica.store.create_job(new_job(&fields)).await?;
    replica.membership.poke();
    publish(&replica.store, Event::job_changed(&job, JobChange::Created));
    Ok((StatusCode::CREATED, Json(view(&replica, job).await?)))
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
    State(replica): State<Arc<Replica>>,
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
    let jobs = replica
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
        items.push(view(&replica, job).await?);
    }
    Ok(Json(Page { items, next }))
}

pub async fn get(
    State(replica): State<Arc<Replica>>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = find(&replica, &id).await?;
    Ok(Json(view(&replica, job).await?))
}

pub async fn update(
    State(replica): State<Arc<Replica>>,
    Path(id): Path<String>,
    fields: Result<Json<JobFields>, JsonRejection>,
) -> Result<Json<JobView>, ApiError> {
    let fields = body(fields)?;
    fields.validate(false)?;
    let job = find(&replica, &id).await?;
    let job = replica
        .store
        .update_job(&job.id, &patch(&fields), None)
        .await?;
    replica.membership.poke();
    publish(&replica.store, Event::job_changed(&job, JobChange::Updated));
    Ok(Json(view(&replica, job).await?))
}

pub async fn delete(
    State(replica): State<Arc<Replica>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let job = find(&replica, &id).await?;
    replica.store.delete_job(&job.id).await?;
    replica.membership.poke();
    publish(&replica.store, Event::job_changed(&job, JobChange::Deleted));
    Ok(StatusCode::NO_CONTENT)
}

async fn set_paused(
    replica: Arc<Replica>,
    id: String,
    paused: bool,
) -> Result<Json<JobView>, ApiError> {
    let job = find(&replica, &id).await?;
    let job = replica.store.set_paused(&job.id, paused).await?;
    replica.membership.poke();
    let change = if paused {
        JobChange::Paused
    } else {
        JobChange::Resumed
    };
    publish(&replica.store, Event::job_changed(&job, change));
    Ok(Json(view(&replica, job).await?))
}

pub async fn pause(
    State(replica): State<Arc<Replica>>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    set_paused(replica, id, true).await
}

pub async fn resume(
    State(replica): State<Arc<Replica>>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    set_paused(replica, id, false).await
}
