//! Health, readiness, plugins, instances and settings.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::jobs::body;
use super::state::ApiState;
use super::views::instant;
use crate::events::{Event, SettingChange, publish};
use crate::settings::{Identity, Role, Settings};

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Value>) {
    match state.health.not_ready() {
        None => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": reason})),
        ),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API route")
}

#[derive(Serialize)]
pub struct PluginView {
    name: String,
    digest: Option<String>,
    size: u64,
    loaded_at: Option<String>,
    error: Option<String>,
}

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

#[derive(Serialize)]
pub struct InstanceView {
    id: String,
    address: String,
    version: String,
    started_at: String,
    last_heartbeat: String,
    jobs: i64,
    leader: bool,
}

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

/// Settings whose values a `read` token does not see.
const SECRET_SETTINGS: &[&str] = &["metrics.token"];

/// The value as `identity` may see it.
fn shown(identity: &Identity, key: &str, value: Value) -> Value {
    if identity.role == Role::Read && SECRET_SETTINGS.contains(&key) {
        Value::String("********".into())
    } else {
        value
    }
}

pub async fn settings_list(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Value>, ApiError> {
    let rows = state.store.settings_all().await?;
    Ok(Json(Value::Object(
        rows.into_iter()
            .map(|(key, value)| {
                let value = shown(&identity, &key, value);
                (key, value)
            })
            .collect(),
    )))
}

/// `GET /api/v1/settings/effective`: the values this replica applies now, from its cache.
pub async fn settings_effective(State(state): State<ApiState>) -> Json<Value> {
    let cache = &state.settings;
    Json(json!({
        "instance": state.info.instance_id,
        "age_ms": cache.age().as_millis() as u64,
        "ttl_ms": cache.ttl().as_millis() as u64,
        "tokens": cache.tokens().len(),
        "settings": cache.get().effective(),
    }))
}

pub async fn setting_get(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rows = state.store.settings_all().await?;
    rows.into_iter()
        .find(|(k, _)| *k == key)
        .map(|(key, value)| Json(json!({"value": shown(&identity, &key, value), "key": key})))
        .ok_or_else(|| {
            ApiError::not_found(format!("setting {key:?} is not set (its default applies)"))
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingBody {
    value: Value,
}

pub async fn setting_put(
    State(state): State<ApiState>,
    Path(key): Path<String>,
    payload: Result<Json<SettingBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let payload = body(payload)?;
    Settings::validate(&key, &payload.value)
        .map_err(|e| ApiError::invalid("value", e.to_string()))?;
    state.store.setting_put(&key, &payload.value).await?;
    // Applied on this replica before answering; the others hear of it by notification.
    state.settings.reload_after_write(&state.store).await;
    publish(
        &state.store,
        Event::SettingChanged {
            key: key.clone(),
            change: SettingChange::Set,
        },
    );
    Ok(Json(json!({"key": key, "value": payload.value})))
}

pub async fn setting_delete(
    State(state): State<ApiState>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.store.setting_delete(&key).await? {
        // Not set: its default applies already, nothing changed.
        return Ok(StatusCode::NO_CONTENT);
    }
    // Applied on this replica before answering; the others hear of it by notification.
    state.settings.reload_after_write(&state.store).await;
    publish(
        &state.store,
        Event::SettingChanged {
            key,
            change: SettingChange::Reset,
        },
    );
    Ok(StatusCode::NO_CONTENT)
}
