//! Bearer-token check for `/api/`: when `WASMCRON_API_TOKEN` is set, every request needs it.
//! Comparison is constant-time; the token never appears in logs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::replica::Replica;

/// Compare two secrets in time independent of where they differ (hashes first, so lengths
/// leak nothing either).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

pub async fn require_token(
    State(replica): State<Arc<Replica>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = replica.options.api_token.as_deref() else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if constant_time_eq(token, expected) => next.run(request).await,
        Some(_) => ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token",
            message: "the bearer token is not valid".into(),
            field: None,
        }
        .into_response(),
        None => ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "missing_token",
            message: "this API requires a bearer token (Authorization: Bearer …)".into(),
            field: None,
        }
        .into_response(),
    }
}
