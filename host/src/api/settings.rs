//! `/api/v1/settings`: the cluster's settings, as stored and as this replica applies them.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::audit::record;
use super::error::{ApiError, ErrorBody};
use super::extract::{self, Path};
use super::state::ApiState;
use crate::events::{Event, SettingChange};
use crate::settings::{Identity, Role, Settings};
use crate::store::{AuditAction, NewAudit};

/// Settings whose values a `read` token does not see.
const SECRET_SETTINGS: &[&str] = &["metrics.token", "alerts.webhooks"];

/// The value as `identity` may see it.
fn shown(identity: &Identity, key: &str, value: Value) -> Value {
    if identity.role == Role::Read {
        masked(key, value)
    } else {
        value
    }
}

/// The value as anyone may see it (in the audit log): a secret setting masked.
fn masked(key: &str, value: Value) -> Value {
    if SECRET_SETTINGS.contains(&key) {
        Value::String("********".into())
    } else {
        value
    }
}

/// A setting's entry in the audit log; its values masked when it is a secret.
fn audited(
    identity: &Identity,
    action: AuditAction,
    key: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> NewAudit {
    let side = |value: Option<Value>| value.map(|v| json!({ "value": masked(key, v) }));
    NewAudit {
        actor: identity.actor(),
        action,
        job_id: None,
        target: key.to_owned(),
        before: side(before),
        after: side(after),
    }
}

/// The stored value of `key`, if it is set.
async fn stored(state: &ApiState, key: &str) -> Result<Option<Value>, ApiError> {
    let rows = state.store.settings_all().await?;
    Ok(rows.into_iter().find(|(k, _)| k == key).map(|(_, v)| v))
}

/// The setting a path names.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SettingKey {
    /// Setting key, such as runs.retention.
    key: String,
}

/// Every setting that is set, by key (secrets masked for read tokens).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(as = SettingMap)]
pub struct SettingMap(pub BTreeMap<String, Value>);

/// One stored setting.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Setting {
    pub key: String,
    /// Its JSON value.
    pub value: Value,
}

/// The values this replica applies now, from its settings cache.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectiveSettings {
    /// This replica's instance id.
    pub instance: String,
    /// Age of the cache.
    pub age_ms: u64,
    /// The cache's time to live.
    pub ttl_ms: u64,
    /// How many named tokens the cache knows.
    pub tokens: usize,
    /// Every setting's effective value, by key.
    #[schema(value_type = Object)]
    pub settings: Value,
}

/// The body of a setting's change.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingValue {
    /// Its JSON value.
    pub value: Value,
}

/// Every cluster setting that is set
#[utoipa::path(get, path = "/settings", tag = "settings", operation_id = "listSettings",
    responses(
        (status = 200, description = "Settings by key", body = SettingMap),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<SettingMap>, ApiError> {
    let rows = state.store.settings_all().await?;
    Ok(Json(SettingMap(
        rows.into_iter()
            .map(|(key, value)| {
                let value = shown(&identity, &key, value);
                (key, value)
            })
            .collect(),
    )))
}

/// The values this replica applies now (its settings cache)
#[utoipa::path(get, path = "/settings/effective", tag = "settings", operation_id = "effectiveSettings",
    responses((status = 200, description = "Effective settings", body = EffectiveSettings)))]
pub async fn effective(State(state): State<ApiState>) -> Json<EffectiveSettings> {
    let cache = &state.settings;
    Json(EffectiveSettings {
        instance: state.info.instance_id.clone(),
        age_ms: cache.age().as_millis() as u64,
        ttl_ms: cache.ttl().as_millis() as u64,
        tokens: cache.tokens().len(),
        settings: cache.get().effective(),
    })
}

/// Read a setting
#[utoipa::path(get, path = "/settings/{key}", tag = "settings", operation_id = "getSetting",
    params(SettingKey),
    responses(
        (status = 200, description = "The setting", body = Setting),
        (status = 404, description = "Not set (its default applies)", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(SettingKey { key }): Path<SettingKey>,
) -> Result<Json<Setting>, ApiError> {
    let value = stored(&state, &key).await?.ok_or_else(|| {
        ApiError::not_found(format!("setting {key:?} is not set (its default applies)"))
    })?;
    Ok(Json(Setting {
        value: shown(&identity, &key, value),
        key,
    }))
}

/// Set a setting; every replica applies it
#[utoipa::path(put, path = "/settings/{key}", tag = "settings", operation_id = "putSetting",
    params(SettingKey),
    request_body = SettingValue,
    responses(
        (status = 200, description = "The stored setting", body = Setting),
        (status = 400, description = "An unknown key, an invalid value, or invalid JSON", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(SettingKey { key }): Path<SettingKey>,
    extract::Json(body): extract::Json<SettingValue>,
) -> Result<Json<Setting>, ApiError> {
    Settings::validate(&key, &body.value).map_err(|e| ApiError::invalid("value", e.to_string()))?;
    let before = stored(&state, &key).await?;
    state.store.setting_put(&key, &body.value).await?;
    let entry = audited(
        &identity,
        AuditAction::SettingSet,
        &key,
        before,
        Some(body.value.clone()),
    );
    record(&state, &entry).await;
    // Applied on this replica before answering; the others hear of it by notification.
    state.settings.reload_after_write(&state.store).await;
    state.events.publish(Event::SettingChanged {
        key: key.clone(),
        change: SettingChange::Set,
    });
    Ok(Json(Setting {
        key,
        value: body.value,
    }))
}

/// Unset a setting (its default applies)
#[utoipa::path(delete, path = "/settings/{key}", tag = "settings", operation_id = "deleteSetting",
    params(SettingKey),
    responses(
        (status = 204, description = "Unset (or it was not set)"),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(SettingKey { key }): Path<SettingKey>,
) -> Result<StatusCode, ApiError> {
    let before = stored(&state, &key).await?;
    if !state.store.setting_delete(&key).await? {
        // Not set: its default applies already, nothing changed.
        return Ok(StatusCode::NO_CONTENT);
    }
    let entry = audited(&identity, AuditAction::SettingReset, &key, before, None);
    record(&state, &entry).await;
    // Applied on this replica before answering; the others hear of it by notification.
    state.settings.reload_after_write(&state.store).await;
    state.events.publish(Event::SettingChanged {
        key,
        change: SettingChange::Reset,
    });
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn setting_answers_keep_their_shapes() {
        let one = Setting {
            key: "runs.retention".into(),
            value: json!("2d"),
        };
        assert_eq!(
            serde_json::to_value(one).unwrap(),
            json!({"key": "runs.retention", "value": "2d"})
        );
        let all = SettingMap(BTreeMap::from([
            ("runs.retention".to_string(), json!("2d")),
            ("scheduler.paused".to_string(), json!(true)),
        ]));
        assert_eq!(
            serde_json::to_value(all).unwrap(),
            json!({"runs.retention": "2d", "scheduler.paused": true})
        );
        let effective = EffectiveSettings {
            instance: "r1".into(),
            age_ms: 12,
            ttl_ms: 5000,
            tokens: 2,
            settings: json!({"scheduler.paused": false}),
        };
        assert_eq!(
            serde_json::to_value(effective).unwrap(),
            json!({"instance": "r1", "age_ms": 12, "ttl_ms": 5000, "tokens": 2,
                   "settings": {"scheduler.paused": false}})
        );
    }

    #[test]
    fn audited_secret_settings_are_masked_for_everyone() {
        let admin = Identity {
            name: Some("ops".into()),
            role: Role::Admin,
        };
        let entry = audited(
            &admin,
            AuditAction::SettingSet,
            "metrics.token",
            Some(json!("old")),
            Some(json!("new")),
        );
        assert_eq!(entry.actor.as_str(), "ops");
        assert_eq!(entry.before, Some(json!({"value": "********"})));
        assert_eq!(entry.after, Some(json!({"value": "********"})));
        let entry = audited(
            &admin,
            AuditAction::SettingReset,
            "runs.retention",
            Some(json!("2d")),
            None,
        );
        assert_eq!(entry.before, Some(json!({"value": "2d"})));
        assert_eq!(entry.after, None);
    }

    #[test]
    fn read_tokens_see_secret_settings_masked() {
        let read = Identity {
            name: Some("viewer".into()),
            role: Role::Read,
        };
        let admin = Identity {
            name: None,
            role: Role::Admin,
        };
        assert_eq!(
            shown(&read, "metrics.token", json!("s3cret")),
            json!("********")
        );
        assert_eq!(
            shown(&admin, "metrics.token", json!("s3cret")),
            json!("s3cret")
        );
        assert_eq!(shown(&read, "runs.retention", json!("2d")), json!("2d"));
        let hooks = json!([{"url": "https://hooks.example.com/T0?token=s3cret"}]);
        assert_eq!(
            shown(&read, "alerts.webhooks", hooks.clone()),
            json!("********")
        );
        assert_eq!(shown(&admin, "alerts.webhooks", hooks.clone()), hooks);
    }
}
