//! The one error shape of the API: `{"error": {"code", "message", "field"?}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::{FieldError, JobError};
use crate::store::StoreError;

/// What went wrong, for programs; the message says it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field's value is not valid (the field is named).
    InvalidField,
    /// The body is JSON of the wrong shape.
    InvalidBody,
    /// The body has a field the operation does not know (the field is named).
    UnknownField,
    /// The body is not JSON.
    InvalidJson,
    /// The body is not declared `application/json`.
    InvalidContentType,
    /// The body is larger than the API accepts.
    BodyTooLarge,
    /// The query string does not fit the operation.
    InvalidQuery,
    /// A path parameter cannot be read.
    InvalidPath,
    /// The job's values were refused by the database.
    InvalidInput,
    /// No such job, run, setting, token or route.
    NotFound,
    /// The change conflicts with what exists.
    Conflict,
    /// Another job has this name.
    DuplicateName,
    /// The job changed since it was read.
    VersionConflict,
    /// The job's overlap policy forbids a run now.
    Overlap,
    /// The job is managed by a jobs file (named in the message): edit it there.
    Managed,
    /// Tokens are not enabled on this cluster.
    TokensDisabled,
    /// The request has no bearer token.
    MissingToken,
    /// The bearer token is unknown or revoked.
    InvalidToken,
    /// The token's role does not allow this.
    Forbidden,
    /// This client made too many failed attempts, or holds too many event streams: wait for
    /// `Retry-After` seconds.
    TooManyRequests,
    /// The request line and headers are larger than the API accepts.
    HeadersTooLarge,
    /// The database cannot be reached.
    DatabaseUnavailable,
    /// Something failed inside the replica (its log says what).
    Internal,
}

/// An API error with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Every field at fault, when there are several (a list of jobs).
    pub errors: Vec<FieldProblem>,
}

/// One field at fault, of several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// Every field at fault, when a request has several (`POST /specs/apply` lists each
    /// invalid entry); `field` and `message` then name the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl ApiError {
    /// An error of `status` with no field named.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            errors: Vec::new(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.into()),
            ..ApiError::bad_request(ErrorCode::InvalidField, message)
        }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, what)
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// The body this error answers with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                field: self.field.clone(),
                errors: self.errors.clone(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::DatabaseUnavailable,
                e.to_string(),
            );
        }
        match e {
            StoreError::DuplicateName(name) => ApiError {
                field: Some("name".into()),
                ..ApiError::conflict(
                    ErrorCode::DuplicateName,
                    format!("a job named {name:?} already exists"),
                )
            },
            // Deleted between the handler's read and its write.
            StoreError::JobNotFound(id) => ApiError::not_found(format!("no job with id {id:?}")),
            StoreError::InvalidInput(message) => {
                ApiError::bad_request(ErrorCode::InvalidInput, message)
            }
            StoreError::VersionConflict { .. } => {
                ApiError::conflict(ErrorCode::VersionConflict, e.to_string())
            }
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal database error (see the replica's log)",
                )
            }
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::Invalid(field) => field.into(),
            JobError::NotFound(_) => ApiError::not_found(e.to_string()),
            JobError::Busy(message) => ApiError::conflict(ErrorCode::Overlap, message),
            JobError::Managed { .. } => ApiError::conflict(ErrorCode::Managed, e.to_string()),
            JobError::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_error_shape_names_its_field_only_when_there_is_one() {
        let with = ApiError::invalid("limit", "limit must be from 1 to 1000");
        assert_eq!(
            serde_json::to_value(with.body()).unwrap(),
            json!({"error": {"code": "invalid_field", "message": "limit must be from 1 to 1000", "field": "limit"}})
        );
        let without = ApiError::not_found("no such API route");
        assert_eq!(
            serde_json::to_value(without.body()).unwrap(),
            json!({"error": {"code": "not_found", "message": "no such API route"}})
        );
    }
}
