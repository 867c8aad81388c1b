//! `/api/v1/alerts`: the recent alert deliveries, newest first. A delivery shows its
//! webhook's host only, never the URL or the headers (they may carry tokens).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{Query, page_limit};
use super::state::ApiState;
use super::views::instant;
use crate::store::{AlertDelivery, AlertState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// How many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt, or being delivered.
    Pending,
    /// Accepted by the webhook (a 2xx answer).
    Delivered,
    /// Failed for longer than the retry window (an hour), or its webhook was removed.
    GivenUp,
}

/// The job an alert is about.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertJob {
    pub id: String,
    /// Its name when the alert was raised.
    #[schema(required = true)]
    pub name: Option<String>,
}

/// One alert delivery to one webhook.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AlertDelivery)]
pub struct AlertView {
    pub id: i64,
    /// run.failed, tick.missed, job.paused, job.stale, job.recovered or plugin.failed.
    pub event: String,
    /// Null for an alert about no job (plugin.failed).
    #[schema(required = true)]
    pub job: Option<AlertJob>,
    /// The webhook's host (never its URL or headers).
    pub target_host: String,
    pub status: DeliveryStatus,
    /// Delivery attempts made.
    pub attempts: i32,
    /// Why the last attempt failed.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// When the alert was raised (database clock).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When its next attempt is due; null once settled.
    #[schema(required = true, format = DateTime)]
    pub next_attempt_at: Option<String>,
    /// When it was delivered or given up.
    #[schema(required = true, format = DateTime)]
    pub done_at: Option<String>,
}

impl From<AlertDelivery> for AlertView {
    fn from(d: AlertDelivery) -> Self {
        let status = match d.state {
            AlertState::Pending => DeliveryStatus::Pending,
            AlertState::Delivered => DeliveryStatus::Delivered,
            AlertState::GivenUp => DeliveryStatus::GivenUp,
        };
        AlertView {
            id: d.id,
            event: d.event,
            job: d.job_id.map(|id| AlertJob {
                id,
                name: d.job_name,
            }),
            target_host: d.host,
            status,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: instant(d.created_at_ms),
            next_attempt_at: (status == DeliveryStatus::Pending).then(|| instant(d.next_at_ms)),
            done_at: d.done_at_ms.map(instant),
        }
    }
}

/// Recent alert deliveries, newest first
#[utoipa::path(get, path = "/alerts", tag = "alerts", operation_id = "listAlerts",
    params(AlertsQuery),
    responses(
        (status = 200, description = "The newest deliveries", body = Vec<AlertView>),
        (status = 400, description = "An invalid limit", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let rows = state.store.recent_alerts(limit).await?;
    Ok(Json(rows.into_iter().map(AlertView::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_delivery_shows_the_host_and_no_url() {
        let view = AlertView::from(AlertDelivery {
            id: 3,
            event: "run.failed".into(),
            job_id: Some("j1".into()),
            job_name: Some("nightly".into()),
            host: "hooks.example.com".into(),
            state: AlertState::Pending,
            attempts: 2,
            last_error: Some("hooks.example.com answered 503".into()),
            created_at_ms: 0,
            next_at_ms: 1_000,
            done_at_ms: None,
        });
        assert_eq!(
            serde_json::to_value(view).unwrap(),
            json!({
                "id": 3, "event": "run.failed", "job": {"id": "j1", "name": "nightly"},
                "target_host": "hooks.example.com", "status": "pending", "attempts": 2,
                "last_error": "hooks.example.com answered 503",
                "created_at": "1970-01-01T00:00:00.000Z",
                "next_attempt_at": "1970-01-01T00:00:01.000Z", "done_at": null,
            })
        );
    }
}
