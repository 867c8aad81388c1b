//! Liveness and readiness probes, plugins and instances.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::state::ApiState;
use super::views::instant;

/// Whether the replica's process answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
}

/// The answer of the liveness probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
}

/// Whether the replica may take traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    Ready,
    NotReady,
}

/// The answer of the readiness probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: ReadinessStatus,
    /// What is missing, when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<&'static str>,
}

/// Liveness: the process answers
#[utoipa::path(get, path = "/healthz", tag = "probes", operation_id = "healthz",
    security(()),
    responses((status = 200, description = "The replica is alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}

/// Readiness: the database answers, the replica is registered and its plugins are loaded
#[utoipa::path(get, path = "/readyz", tag = "probes", operation_id = "readyz",
    security(()),
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready, and why", body = Readiness),
    ))]
pub async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Readiness>) {
    match state.health.not_ready() {
        None => (
            StatusCode::OK,
            Json(Readiness {
                status: ReadinessStatus::Ready,
                reason: None,
            }),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness {
                status: ReadinessStatus::NotReady,
                reason: Some(reason),
            }),
        ),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API route")
}

/// A plugin of the plugins directory, as this replica loaded it.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Plugin)]
pub struct PluginView {
    pub name: String,
    /// "sha256:…" of the loaded version; null when it failed to load.
    #[schema(required = true)]
    pub digest: Option<String>,
    /// Bytes of its file.
    pub size: u64,
    #[schema(required = true, format = DateTime)]
    pub loaded_at: Option<String>,
    /// Why it failed to load.
    #[schema(required = true)]
    pub error: Option<String>,
}

/// Plugins of this replica's plugins directory
#[utoipa::path(get, path = "/plugins", tag = "cluster", operation_id = "listPlugins",
    responses((status = 200, description = "The plugins", body = Vec<PluginView>)))]
pub async fn plugins(State(state): State<ApiState>) -> Json<Vec<PluginView>> {
    Json(
        state
            .plugins
            .list()
            .into_iter()
            .map(|p| PluginView {
                name: p.name,
                digest: p.digest,
                size: p.size,
                loaded_at: p.loaded_at.map(|t| {
                    let ms = t
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(0);
                    instant(ms)
                }),
                error: p.error,
            })
            .collect(),
    )
}

/// A live replica.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Instance)]
pub struct InstanceView {
    pub id: String,
    /// Where its API listens.
    pub address: String,
    /// Its wasmcron version.
    pub version: String,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub last_heartbeat: String,
    /// How many jobs it owns.
    pub jobs: i64,
    /// Holds the housekeeping lease.
    pub leader: bool,
}

/// Live replicas
#[utoipa::path(get, path = "/instances", tag = "cluster", operation_id = "listInstances",
    responses(
        (status = 200, description = "The live replicas", body = Vec<InstanceView>),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn instances(State(state): State<ApiState>) -> Result<Json<Vec<InstanceView>>, ApiError> {
    let dead_after = state.info.dead_after.as_millis() as i64;
    let live = state.store.live_instances(dead_after).await?;
    let counts = state.store.owned_job_counts().await?;
    let leader = state
        .store
        .lease_holder(crate::cluster::HOUSEKEEPING_LEASE)
        .await?;
    Ok(Json(
        live.into_iter()
            .map(|i| InstanceView {
                jobs: counts
                    .iter()
                    .find(|(id, _)| *id == i.id)
                    .map(|(_, n)| *n)
                    .unwrap_or(0),
                leader: leader.as_deref() == Some(i.id.as_str()),
                id: i.id,
                address: i.address,
                version: i.version,
                started_at: instant(i.started_at_ms),
                last_heartbeat: instant(i.heartbeat_at_ms),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json(value: impl Serialize) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn probes_answer_their_status_and_why_not_ready() {
        assert_eq!(
            json(Health {
                status: HealthStatus::Ok
            }),
            json!({"status": "ok"})
        );
        assert_eq!(
            json(Readiness {
                status: ReadinessStatus::Ready,
                reason: None
            }),
            json!({"status": "ready"})
        );
        assert_eq!(
            json(Readiness {
                status: ReadinessStatus::NotReady,
                reason: Some("database unreachable")
            }),
            json!({"status": "not_ready", "reason": "database unreachable"})
        );
    }
}
