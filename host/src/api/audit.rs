//! `/api/v1/audit`: the audit log, newest first, keyset-paginated; and [`record`], how the
//! routes that change settings and tokens write their entries.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{Query, page_limit};
use super::state::ApiState;
use super::views::{Page, instant};
use crate::store::{AuditAction, AuditEntry, AuditFilter, AuditPage, NewAudit};

/// Records `entry` right after its change was stored. A failure is logged, not answered:
/// the change itself stands.
pub(super) async fn record(state: &ApiState, entry: &NewAudit) {
    crate::jobs::record_audit(&state.store, entry).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only the entries of this job: its id or name (a deleted job's id, or a name it had).
    job: Option<String>,
    /// Only the entries of this actor: a token's name, bootstrap, anonymous, system or
    /// jobs-file.
    actor: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Cursor: `next` of the previous page.
    before: Option<String>,
}

/// The job an entry is about.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditJob {
    pub id: String,
    /// Its name when the change was made.
    pub name: String,
}

/// One change to a job, a setting or an API token.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditView {
    pub id: i64,
    /// When it was made (database clock).
    #[schema(format = DateTime)]
    pub at: String,
    /// Who made it: a token's name, bootstrap (the bootstrap token), anonymous (an API
    /// without tokens), system (the host itself) or jobs-file.
    pub actor: String,
    pub action: AuditAction,
    /// The job, for a job's change.
    #[schema(required = true)]
    pub job: Option<AuditJob>,
    /// The job's name, the setting's key or the token's name.
    pub target: String,
    /// The changed fields before; null when there was nothing (a creation, a trigger).
    /// Secret settings are masked; token secrets and hashes never appear.
    #[schema(required = true, value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The changed fields after; null when nothing is left (a deletion, a reset).
    #[schema(required = true, value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: instant(e.at_ms),
            actor: e.actor,
            action: e.action,
            job: e.job_id.map(|id| AuditJob {
                id,
                name: e.target.clone(),
            }),
            target: e.target,
            before: e.before,
            after: e.after,
        }
    }
}

/// The audit log, newest first
#[utoipa::path(get, path = "/audit", tag = "audit", operation_id = "listAudit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<AuditView>),
        (status = 400, description = "An invalid limit or cursor", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let before = match q.before.as_deref() {
        None => None,
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
            ApiError::invalid(
                "before",
                "before must be a cursor from a previous page's `next`",
            )
        })?),
    };
    // A job that exists is looked up by its id, which also finds the entries of its older
    // names; a deleted one is matched as written.
    let job = match q.job {
        Some(job) => match state.store.get_job(&job).await? {
            Some(found) => Some(found.id),
            None => Some(job),
        },
        None => None,
    };
    let filter = AuditFilter {
        job,
        actor: q.actor,
    };
    let entries = state
        .store
        .list_audit(&filter, &AuditPage { limit, before })
        .await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: entries.into_iter().map(AuditView::from).collect(),
        next,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_entry_keeps_its_shape() {
        let view = AuditView::from(AuditEntry {
            id: 7,
            at_ms: 1_000,
            actor: "ci".into(),
            action: AuditAction::JobPaused,
            job_id: Some("j1".into()),
            target: "backup".into(),
            before: Some(json!({"paused": false})),
            after: Some(json!({"paused": true})),
        });
        assert_eq!(
            serde_json::to_value(view).unwrap(),
            json!({
                "id": 7, "at": "1970-01-01T00:00:01.000Z", "actor": "ci",
                "action": "job.paused", "job": {"id": "j1", "name": "backup"},
                "target": "backup", "before": {"paused": false}, "after": {"paused": true},
            })
        );
    }
}
