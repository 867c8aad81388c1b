//! Bearer tokens for `/api/`. When `WASMCRON_API_TOKEN` (the bootstrap admin token) is set,
//! every request needs a token: the bootstrap one or a named token created through
//! `/api/v1/tokens`, looked up in the replica's settings cache (so a revoked token is refused
//! as soon as the cache hears of it: within a second on PostgreSQL, within the settings TTL on
//! SQLite). A `read` token may only read, and may not see the tokens. Comparisons are
//! constant-time; tokens never appear in logs. A client that keeps presenting unknown tokens
//! is slowed down ([`super::limits`]): each failure is counted
//! (`wasmcron_api_auth_failures_total`) and logged with the client's address, never the token.
//!
//! The bootstrap token must be at least [`MIN_BOOTSTRAP_TOKEN_CHARS`] characters long: a
//! replica refuses to start with a shorter one ([`check_bootstrap_token`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorCode};
use super::limits::{Client, too_many};
use super::state::ApiState;
use crate::settings::{Identity, Role};

/// The shortest bootstrap token a replica accepts.
pub const MIN_BOOTSTRAP_TOKEN_CHARS: usize = 32;

/// Refuses a bootstrap token shorter than [`MIN_BOOTSTRAP_TOKEN_CHARS`] characters, saying how
/// to make a good one.
pub fn check_bootstrap_token(token: &str) -> Result<(), String> {
    let chars = token.chars().count();
    if chars < MIN_BOOTSTRAP_TOKEN_CHARS {
        return Err(format!(
            "WASMCRON_API_TOKEN has {chars} characters; the bootstrap token must have at least \
             {MIN_BOOTSTRAP_TOKEN_CHARS} (make one with `openssl rand -hex 32`)"
        ));
    }
    Ok(())
}

/// A token's `last_used_at` is written at most this often.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// When each named token was last recorded as used, by this replica.
#[derive(Debug, Default)]
pub struct TokenUses(Mutex<HashMap<String, Instant>>);

impl TokenUses {
    /// True when `name`'s use should be written now (and notes that it is).
    fn due(&self, name: &str) -> bool {
        let mut seen = self.0.lock().expect("token uses lock");
        let now = Instant::now();
        match seen.get(name) {
            Some(at) if now.duration_since(*at) < TOUCH_EVERY => false,
            _ => {
                seen.insert(name.to_string(), now);
                true
            }
        }
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Who presents `token` to this replica, if anyone. With no bootstrap token configured, the
/// API is open and everyone is an anonymous admin.
pub fn identify(state: &ApiState, token: Option<&str>) -> Result<Identity, ApiError> {
    let Some(bootstrap) = state.info.api_token.as_deref() else {
        return Ok(Identity {
            name: None,
            role: Role::Admin,
        });
    };
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::MissingToken,
            "this API requires a bearer token (Authorization: Bearer …)",
        ));
    };
    state
        .settings
        .tokens()
        .identify(token, Some(bootstrap))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                "the bearer token is not valid (unknown or revoked)",
            )
        })
}

fn forbidden(name: &str, what: &str) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        format!("the token {name:?} has the read role: it cannot {what}"),
    )
    .into_response()
}

/// What a `read` token may not do with `method` on `path` (relative to `/api/v1`), if this is
/// one of those things: it may only read, and may not see the tokens.
pub fn refused_to_readers(method: &Method, path: &str) -> Option<&'static str> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        Some("change anything")
    } else if path == "/tokens" || path.starts_with("/tokens/") {
        Some("see the API tokens")
    } else {
        None
    }
}

pub async fn require_token(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = Client::of(&request);
    let token = bearer(request.headers());
    let now = Instant::now();
    if token.is_some()
        && state.info.api_token.is_some()
        && let Some(wait) = state.limits.blocked(client, now)
    {
        crate::metrics::global().api_throttled("auth");
        return too_many(
            wait,
            "too many unknown bearer tokens from this client: wait before trying again",
        );
    }
    let identity = match identify(&state, token) {
        Ok(identity) => identity,
        Err(e) => {
            if e.code == ErrorCode::InvalidToken {
                crate::metrics::global().api_auth_failed();
                let (failures, blocked) = state.limits.failed(client, now);
                tracing::warn!(
                    client = %client.ip(),
                    failures,
                    blocked_secs = blocked.map(|b| b.as_secs()),
                    "API request with an unknown or revoked bearer token"
                );
            }
            return e.into_response();
        }
    };
    if identity.role == Role::Read {
        let path = request.uri().path();
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        if let Some(what) = refused_to_readers(request.method(), path) {
            return forbidden(identity.name.as_deref().unwrap_or_default(), what);
        }
    }
    if let Some(name) = identity.name.as_deref()
        && name != crate::settings::tokens::BOOTSTRAP_NAME
        && state.token_uses.due(name)
    {
        let store = state.store.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            if let Err(e) = store.token_touch(&name).await {
                tracing::debug!(error = %e, token = %name, "cannot record a token's last use");
            }
        });
    }
    request.extensions_mut().insert(identity);
    next.run(request).await
}
