//! `GET /metrics`: Prometheus text. When the setting `metrics.token` is set, scrapes need
//! `Authorization: Bearer <token>`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::ApiState;
use crate::metrics::Gauges;
use crate::settings::tokens::constant_time_eq;

pub async fn metrics(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let replica = &state.replica;
    if let Some(expected) = replica.settings.get().metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|t| constant_time_eq(t, expected)) {
            return ApiError {
                status: StatusCode::UNAUTHORIZED,
                code: "missing_token",
                message: "metrics need the bearer token of the setting metrics.token".into(),
                field: None,
            }
            .into_response();
        }
    }
    let me = &replica.options.instance_id;
    let dead_after = replica.options.dead_after.as_millis() as i64;
    let owned = replica.store.owned_job_counts().await;
    let live = replica.store.live_instances(dead_after).await;
    let plugins = replica.runtime.plugins.list();
    let gauges = Gauges {
        database_up: owned.is_ok() && live.is_ok(),
        owned_jobs: owned
            .ok()
            .and_then(|c| c.into_iter().find(|(id, _)| id == me).map(|(_, n)| n))
            .unwrap_or(0),
        live_instances: live.map(|l| l.len() as i64).unwrap_or(0),
        plugins_loaded: plugins.iter().filter(|p| p.error.is_none()).count() as i64,
        plugins_failed: plugins.iter().filter(|p| p.error.is_some()).count() as i64,
        settings_age: replica.settings.age(),
    };
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        crate::metrics::global().render(&gauges),
    )
        .into_response()
}
