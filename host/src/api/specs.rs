//! `/api/v1/specs`: the cluster's jobs in the jobs file format (`wasmcron job export`), and a
//! list of jobs applied declaratively (`wasmcron job apply`): planned — what to create,
//! update with which fields, delete — and, unless it is a dry run, carried out.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::FieldProblem;
use super::error::{ApiError, ErrorBody};
use super::extract;
use super::schema::JobCreate;
use super::state::ApiState;
use crate::jobs::{ChangeKind, EntryError, Foreign, JobFields, Plan, PlanError, check_all_entries};
use crate::settings::Identity;

/// The longest source name.
const MAX_SOURCE_CHARS: usize = 256;

/// The cluster's jobs as a jobs file lists them.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Specs {
    /// Every job, by name: its name, schedule and plugin and the fields not at their default.
    #[schema(value_type = Vec<JobCreate>)]
    pub jobs: Vec<JobFields>,
}

/// Export the jobs as a jobs file
#[utoipa::path(get, path = "/specs", tag = "jobs", operation_id = "exportJobs",
    responses(
        (status = 200, description = "Every job, in the fields of a jobs file", body = Specs),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn export(State(state): State<ApiState>) -> Result<Json<Specs>, ApiError> {
    let jobs = state.jobs.all_jobs().await?;
    Ok(Json(Specs {
        jobs: jobs.iter().map(JobFields::of_job).collect(),
    }))
}

/// A list of jobs to apply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Where the list comes from (e.g. its file's name): the jobs it creates are managed by
    /// it, and only those are updated or pruned by it.
    pub source: String,
    /// The jobs, in the fields of `POST /jobs`. An entry whose job another source manages,
    /// or that was made through the API, is refused if it differs from that job.
    #[schema(value_type = Vec<JobCreate>)]
    pub jobs: Vec<JobFields>,
    /// Delete the jobs this source manages that the list does not name.
    #[serde(default)]
    pub prune: bool,
    /// Only plan: change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an apply changed, or would change (a dry run).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    pub source: String,
    /// Nothing was changed.
    pub dry_run: bool,
    /// The jobs created, updated and deleted, in that order.
    pub changes: Vec<ChangeView>,
    /// Entries that already matched their job.
    pub unchanged: usize,
}

/// One job changed.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangeView {
    /// `create`, `update` or `delete`.
    pub action: String,
    pub name: String,
    /// The fields an update changes (none for a creation or a deletion).
    pub fields: BTreeMap<String, FieldChangeView>,
}

/// A field before and after (null: none).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChangeView {
    pub before: Value,
    pub after: Value,
}

impl PlanView {
    fn new(plan: Plan, dry_run: bool) -> Self {
        let changes = plan
            .changes
            .into_iter()
            .map(|c| ChangeView {
                action: match c.action {
                    ChangeKind::Create => "create",
                    ChangeKind::Update => "update",
                    ChangeKind::Delete => "delete",
                }
                .to_owned(),
                name: c.name,
                fields: c
                    .fields
                    .into_iter()
                    .map(|(k, f)| {
                        let view = FieldChangeView {
                            before: f.before,
                            after: f.after,
                        };
                        (k, view)
                    })
                    .collect(),
            })
            .collect();
        PlanView {
            source: plan.source,
            dry_run,
            changes,
            unchanged: plan.unchanged,
        }
    }
}

/// How many invalid entries the message of a refusal names (`errors` lists them all).
const NAMED_IN_MESSAGE: usize = 5;

/// A list refused for its invalid entries: each one in `errors` (`jobs[i].field`), the first
/// few in the message.
fn invalid_entries(errors: Vec<EntryError>) -> ApiError {
    let problems: Vec<FieldProblem> = errors
        .iter()
        .map(|e| FieldProblem {
            field: format!("jobs[{}].{}", e.index - 1, e.field),
            message: e.to_string(),
        })
        .collect();
    let named: Vec<&str> = problems
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|p| p.message.as_str())
        .collect();
    let more = problems.len().saturating_sub(NAMED_IN_MESSAGE);
    let message = format!(
        "{} invalid {}, nothing was applied: {}{}",
        problems.len(),
        if problems.len() == 1 {
            "entry"
        } else {
            "entries"
        },
        named.join("; "),
        if more > 0 {
            format!("; and {more} more (see errors)")
        } else {
            String::new()
        }
    );
    ApiError {
        errors: problems.clone(),
        ..ApiError::invalid(problems[0].field.clone(), message)
    }
}

/// Apply a list of jobs
#[utoipa::path(post, path = "/specs/apply", tag = "jobs", operation_id = "applyJobs",
    request_body = ApplyRequest,
    responses(
        (status = 200, description = "What was changed (or, for a dry run, would be)", body = PlanView),
        (status = 400, description = "Invalid entries (each in `errors`, `field`: `jobs[i].field`) or an invalid source; nothing was changed", body = ErrorBody),
        (status = 409, description = "A job changed while it was applied; apply again", body = ErrorBody),
        (status = 413, description = "The body is larger than 16 MiB", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn apply(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    extract::Json(request): extract::Json<ApplyRequest>,
) -> Result<Json<PlanView>, ApiError> {
    let source = request.source.trim();
    if source.is_empty()
        || source.chars().count() > MAX_SOURCE_CHARS
        || source.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "source",
            format!(
                "source must be 1 to {MAX_SOURCE_CHARS} characters, without control characters"
            ),
        ));
    }
    let entry = |e: crate::jobs::EntryError| {
        let field = format!("jobs[{}].{}", e.index - 1, e.field);
        ApiError::invalid(field, e.to_string())
    };
    let desired = check_all_entries(&request.jobs).map_err(invalid_entries)?;
    let plan = state
        .jobs
        .plan(source, desired, request.prune, Foreign::IfDifferent)
        .await
        .map_err(|e| match e {
            PlanError::Entry(e) => entry(e),
            PlanError::Job(e) => e.into(),
        })?;
    if !request.dry_run {
        state.jobs.apply(&plan, &identity.actor()).await?;
    }
    Ok(Json(PlanView::new(plan, request.dry_run)))
}
