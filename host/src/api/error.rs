//! The one error shape of the API: `{"error": {"code", "message", "field"?}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::jobs::{FieldError, JobError};
use crate::store::StoreError;

/// An API error with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_field",
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: what.into(),
            field: None,
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            return ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "database_unavailable",
                message: e.to_string(),
                field: None,
            };
        }
        match e {
            StoreError::DuplicateName(name) => ApiError {
                status: StatusCode::CONFLICT,
                code: "duplicate_name",
                message: format!("a job named {name:?} already exists"),
                field: Some("name".into()),
            },
            // Deleted between the handler's read and its write.
            StoreError::JobNotFound(id) => ApiError::not_found(format!("no job with id {id:?}")),
            StoreError::InvalidInput(message) => ApiError::bad_request("invalid_input", message),
            StoreError::VersionConflict { .. } => {
                ApiError::conflict("version_conflict", e.to_string())
            }
            other => {
                tracing::error!(error = %other, "database error");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "internal database error (see the replica's log)".into(),
                    field: None,
                }
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
            JobError::Busy(message) => ApiError::conflict("overlap", message),
            JobError::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}
