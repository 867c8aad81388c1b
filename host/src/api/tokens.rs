//! `GET /api/v1/whoami` and the named API tokens: `GET/POST /api/v1/tokens`,
//! `DELETE /api/v1/tokens/{name}` (admins only; the auth layer refuses read tokens).

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::jobs::body;
use super::state::ApiState;
use super::views::instant;
use crate::events::{Event, TokenChange, publish};
use crate::settings::tokens::{check_name, generate_secret, hash_secret};
use crate::settings::{Identity, Role};
use crate::store::StoredToken;

pub async fn whoami(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Json<Value> {
    Json(json!({
        "auth_required": state.info.api_token.is_some(),
        "name": identity.name,
        "role": identity.role,
    }))
}

fn view(token: &StoredToken) -> Value {
    json!({
        "name": token.name,
        "role": token.role,
        "created_at": instant(token.created_at_ms),
        "created_by": token.created_by,
        "last_used_at": token.last_used_ms.map(instant),
    })
}

pub async fn list(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let tokens = state.store.tokens_all().await?;
    Ok(Json(
        json!({"tokens": tokens.iter().map(view).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    role: String,
}

fn disabled() -> ApiError {
    ApiError::conflict(
        "tokens_disabled",
        "API tokens are not enabled: start the replicas with WASMCRON_API_TOKEN (the bootstrap admin token) to require tokens",
    )
}

pub async fn create(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    payload: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if state.info.api_token.is_none() {
        return Err(disabled());
    }
    let new = body(payload)?;
    check_name(&new.name).map_err(|reason| ApiError::invalid("name", reason))?;
    let role = Role::parse(&new.role).ok_or_else(|| {
        ApiError::invalid(
            "role",
            format!("unknown role {:?}: roles are admin and read", new.role),
        )
    })?;
    let secret = generate_secret();
    let created = state
        .store
        .token_create(
            &new.name,
            role.as_str(),
            &hash_secret(&secret),
            identity.name.as_deref(),
        )
        .await?;
    let Some(created) = created else {
        return Err(ApiError {
            field: Some("name".into()),
            ..ApiError::conflict(
                "conflict",
                format!("a token named {:?} already exists", new.name),
            )
        });
    };
    // This replica knows the new token before answering; the others on notification.
    state.settings.reload_after_write(&state.store).await;
    publish(
        &state.store,
        Event::TokenChanged {
            change: TokenChange::Created,
        },
    );
    tracing::info!(token = %new.name, role = role.as_str(), by = ?identity.name, "API token created");
    let mut answer = view(&created);
    answer["token"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

pub async fn revoke(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.store.token_delete(&name).await? {
        return Err(ApiError::not_found(format!("no API token named {name:?}")));
    }
    // This replica refuses the token before answering; the others on notification.
    state.settings.forget_token(&name);
    state.settings.reload_after_write(&state.store).await;
    publish(
        &state.store,
        Event::TokenChanged {
            change: TokenChange::Revoked,
        },
    );
    tracing::info!(token = %name, by = ?identity.name, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
