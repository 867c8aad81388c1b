//! `GET /metrics`: Prometheus text. When the setting `metrics.token` is set, scrapes need
//! `Authorization: Bearer <token>`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::state::ApiState;
use crate::metrics::Gauges;
use crate::settings::tokens::constant_time_eq;

/// Prometheus metrics of this replica
///
/// When the setting `metrics.token` is set, scrapes need `Authorization: Bearer <that token>`.
#[utoipa::path(get, path = "/metrics", tag = "probes", operation_id = "metrics",
    security((), ("metricsToken" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "The setting metrics.token is set and was not presented", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    if let Some(expected) = state.settings.get().metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|t| constant_time_eq(t, expected)) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::MissingToken,
                "metrics need the bearer token of the setting metrics.token",
            )
            .into_response();
        }
    }
    let me = &state.info.instance_id;
    let dead_after = state.info.dead_after.as_millis() as i64;
    let owned = state.store.owned_job_counts().await;
    let live = state.store.live_instances(dead_after).await;
    let plugins = state.plugins.list();
    let stale = state.store.stale_jobs().await;
    let gauges = Gauges {
        database_up: owned.is_ok() && live.is_ok() && stale.is_ok(),
        stale_jobs: stale.map(|s| s.len() as i64).unwrap_or(0),
        owned_jobs: owned
            .ok()
            .and_then(|c| c.into_iter().find(|(id, _)| id == me).map(|(_, n)| n))
            .unwrap_or(0),
        live_instances: live.map(|l| l.len() as i64).unwrap_or(0),
        plugins_loaded: plugins.iter().filter(|p| p.error.is_none()).count() as i64,
        plugins_failed: plugins.iter().filter(|p| p.error.is_some()).count() as i64,
        settings_age: state.settings.age(),
    };
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        crate::metrics::global().render(&gauges),
    )
        .into_response()
}
