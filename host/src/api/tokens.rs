//! `GET /api/v1/whoami` and the named API tokens: `GET/POST /api/v1/tokens`,
//! `DELETE /api/v1/tokens/{name}` (admins only; the auth layer refuses read tokens).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::audit::record;
use super::error::{ApiError, ErrorBody, ErrorCode};
use super::extract::{self, Path};
use super::state::ApiState;
use super::views::instant;
use crate::events::{Event, TokenChange};
use crate::settings::tokens::{check_name, generate_secret, hash_secret};
use crate::settings::{Identity, Role};
use crate::store::{AuditAction, NewAudit, StoredToken};

/// Who is asking.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// Whether the API requires a token.
    pub auth_required: bool,
    /// The token's name; null when the API requires no token.
    #[schema(required = true)]
    pub name: Option<String>,
    pub role: Role,
}

/// The identity and role of the presented token
#[utoipa::path(get, path = "/whoami", tag = "tokens", operation_id = "whoami",
    responses((status = 200, description = "Who is asking", body = WhoAmI)))]
pub async fn whoami(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Json<WhoAmI> {
    Json(WhoAmI {
        auth_required: state.info.api_token.is_some(),
        name: identity.name,
        role: identity.role,
    })
}

/// A named API token (never its secret).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenView {
    pub name: String,
    pub role: Role,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The token that created it; null for the bootstrap token or an open API.
    #[schema(required = true)]
    pub created_by: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
}

impl TryFrom<&StoredToken> for TokenView {
    type Error = ApiError;

    /// Fails only for a role [`Role`] does not know, which the database's check constraint
    /// keeps out of every row.
    fn try_from(token: &StoredToken) -> Result<Self, ApiError> {
        let role = Role::parse(&token.role).ok_or_else(|| {
            tracing::error!(token = %token.name, role = %token.role, "stored token of unknown role");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "a stored API token has an unknown role (see the replica's log)",
            )
        })?;
        Ok(TokenView {
            name: token.name.clone(),
            role,
            created_at: instant(token.created_at_ms),
            created_by: token.created_by.clone(),
            last_used_at: token.last_used_ms.map(instant),
        })
    }
}

/// Every named token.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// A new token with its secret, shown this once.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    /// The secret: present it as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Every named API token (admins only; never the secrets)
#[utoipa::path(get, path = "/tokens", tag = "tokens", operation_id = "listTokens",
    responses(
        (status = 200, description = "The tokens", body = TokenList),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn list(State(state): State<ApiState>) -> Result<Json<TokenList>, ApiError> {
    let tokens = state.store.tokens_all().await?;
    Ok(Json(TokenList {
        tokens: tokens
            .iter()
            .map(TokenView::try_from)
            .collect::<Result<_, _>>()?,
    }))
}

/// The body of a token's creation.
// The role is read as text, so that an unknown one is refused in the handler's own words.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Letters, digits, '.', '_' and '-'; not "bootstrap".
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub name: String,
    #[schema(value_type = Role)]
    pub role: String,
}

/// A token's entry in the audit log: its role before and after, never its secret or hash.
fn token_entry(
    identity: &Identity,
    action: AuditAction,
    name: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> NewAudit {
    let side = |role: Option<&str>| role.map(|role| serde_json::json!({ "role": role }));
    NewAudit {
        actor: identity.actor(),
        action,
        job_id: None,
        target: name.to_owned(),
        before: side(before),
        after: side(after),
    }
}

fn disabled() -> ApiError {
    ApiError::conflict(
        ErrorCode::TokensDisabled,
        "API tokens are not enabled: start the replicas with WASMCRON_API_TOKEN (the bootstrap admin token) to require tokens",
    )
}

/// Create a named API token; its secret is shown once
#[utoipa::path(post, path = "/tokens", tag = "tokens", operation_id = "createToken",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token, with its secret", body = CreatedToken),
        (status = 400, description = "An invalid name or role, or invalid JSON", body = ErrorBody),
        (status = 409, description = "A token of that name exists, or tokens are not enabled", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    payload: Result<extract::Json<NewToken>, ApiError>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if state.info.api_token.is_none() {
        return Err(disabled());
    }
    let extract::Json(new) = payload?;
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
                ErrorCode::Conflict,
                format!("a token named {:?} already exists", new.name),
            )
        });
    };
    let entry = token_entry(
        &identity,
        AuditAction::TokenCreated,
        &new.name,
        None,
        Some(role.as_str()),
    );
    record(&state, &entry).await;
    // This replica knows the new token before answering; the others on notification.
    state.settings.reload_after_write(&state.store).await;
    state.events.publish(Event::TokenChanged {
        change: TokenChange::Created,
    });
    tracing::info!(token = %new.name, role = role.as_str(), by = ?identity.name, "API token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            view: TokenView::try_from(&created)?,
            token: secret,
        }),
    ))
}

/// The token a path names.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenName {
    /// Token name.
    name: String,
}

/// Revoke a token: every replica refuses it within a second
#[utoipa::path(delete, path = "/tokens/{name}", tag = "tokens", operation_id = "revokeToken",
    params(TokenName),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token", body = ErrorBody),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn revoke(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(TokenName { name }): Path<TokenName>,
) -> Result<StatusCode, ApiError> {
    let role = (state.store.tokens_all().await?)
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.role);
    if !state.store.token_delete(&name).await? {
        return Err(ApiError::not_found(format!("no API token named {name:?}")));
    }
    let entry = token_entry(
        &identity,
        AuditAction::TokenRevoked,
        &name,
        role.as_deref(),
        None,
    );
    record(&state, &entry).await;
    // This replica refuses the token before answering; the others on notification.
    state.settings.forget_token(&name);
    state.settings.reload_after_write(&state.store).await;
    state.events.publish(Event::TokenChanged {
        change: TokenChange::Revoked,
    });
    tracing::info!(token = %name, by = ?identity.name, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored(last_used_ms: Option<i64>) -> StoredToken {
        StoredToken {
            name: "ci".into(),
            role: "read".into(),
            sha256: "00".into(),
            created_at_ms: 0,
            created_by: None,
            last_used_ms,
        }
    }

    #[test]
    fn token_answers_keep_their_shapes() {
        let list = TokenList {
            tokens: vec![TokenView::try_from(&stored(Some(1_000))).unwrap()],
        };
        assert_eq!(
            serde_json::to_value(list).unwrap(),
            json!({"tokens": [{"name": "ci", "role": "read", "created_at": "1970-01-01T00:00:00.000Z",
                               "created_by": null, "last_used_at": "1970-01-01T00:00:01.000Z"}]})
        );
        let created = CreatedToken {
            view: TokenView::try_from(&stored(None)).unwrap(),
            token: "wcr_x".into(),
        };
        assert_eq!(
            serde_json::to_value(created).unwrap(),
            json!({"name": "ci", "role": "read", "created_at": "1970-01-01T00:00:00.000Z",
                   "created_by": null, "last_used_at": null, "token": "wcr_x"})
        );
    }

    #[test]
    fn a_stored_role_is_shown_as_its_role_and_an_unknown_one_is_refused() {
        let mut admin = stored(None);
        admin.role = "admin".into();
        assert_eq!(TokenView::try_from(&admin).unwrap().role, Role::Admin);
        let mut unknown = stored(None);
        unknown.role = "owner".into();
        let refused = TokenView::try_from(&unknown).unwrap_err();
        assert_eq!(
            (refused.status, refused.code),
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
        );
    }

    #[test]
    fn whoami_names_the_token_or_null() {
        let open = WhoAmI {
            auth_required: false,
            name: None,
            role: Role::Admin,
        };
        assert_eq!(
            serde_json::to_value(open).unwrap(),
            json!({"auth_required": false, "name": null, "role": "admin"})
        );
    }
}
