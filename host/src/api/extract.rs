//! Extractors whose every refusal is the API's error shape: a JSON body, a query string and
//! path parameters (axum's own answer such refusals in plain text).

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};
use super::{MAX_APPLY_BODY_BYTES, MAX_BODY_BYTES};

/// A JSON object request body.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A query string.
#[derive(Debug)]
pub struct Query<T>(pub T);

/// Path parameters.
#[derive(Debug)]
pub struct Path<T>(pub T);

/// The `limit` of a listing: 100 unless given, and from 1 to [`MAX_PAGE`].
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be from 1 to 1000"));
    }
    Ok(limit)
}

/// The most items a listing answers in one page.
const MAX_PAGE: i64 = 1000;

/// The field serde names in "unknown field `x`", if any.
fn unknown_field(text: &str) -> Option<String> {
    text.split("unknown field `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .map(str::to_string)
}

/// A refused body in the API's error shape.
fn refused_body(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let field = unknown_field(&text);
            let code = if field.is_some() {
                ErrorCode::UnknownField
            } else {
                ErrorCode::InvalidBody
            };
            ApiError {
                field,
                ..ApiError::bad_request(code, text)
            }
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::bad_request(ErrorCode::InvalidJson, e.body_text())
        }
        JsonRejection::MissingJsonContentType(e) => {
            ApiError::bad_request(ErrorCode::InvalidContentType, e.body_text())
        }
        e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!(
                "request body is larger than this operation accepts ({MAX_BODY_BYTES} bytes; \
                 {MAX_APPLY_BODY_BYTES} for POST /specs/apply)"
            ),
        ),
        e => ApiError::bad_request(ErrorCode::InvalidBody, e.body_text()),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // Read first, so that the body's shape can be checked once serde has read it.
        let headers = request.headers().clone();
        // The route's body limit travels in the extensions (`POST /specs/apply` has its own).
        let extensions = request.extensions().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| refused_body(e.into()))?;
        let mut again = Request::new(Body::from(bytes.clone()));
        *again.headers_mut() = headers;
        *again.extensions_mut() = extensions;
        let axum::Json(value) = axum::Json::<T>::from_request(again, state)
            .await
            .map_err(refused_body)?;
        // serde also reads a struct from an array, field by field: every body here is an object.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidBody,
                "the body must be a JSON object",
            ));
        }
        Ok(Json(value))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                if let Some(field) = unknown_field(&text) {
                    return Err(ApiError {
                        field: Some(field),
                        ..ApiError::bad_request(ErrorCode::UnknownField, text)
                    });
                }
                // "Failed to deserialize query string: limit: invalid digit found in string"
                let field = text
                    .split_once(": ")
                    .and_then(|(_, rest)| rest.split_once(": "))
                    .map(|(name, _)| name.to_string())
                    .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                Err(match field {
                    Some(name) if !name.is_empty() => ApiError::invalid(name, text),
                    _ => ApiError::bad_request(ErrorCode::InvalidQuery, text),
                })
            }
            Err(e) => Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                e.body_text(),
            )),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e: PathRejection| {
                ApiError::bad_request(ErrorCode::InvalidPath, e.body_text())
            })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        limit: Option<i64>,
    }

    async fn query(uri: &str) -> Result<Query<Q>, ApiError> {
        let (mut parts, _) = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .unwrap()
            .into_parts();
        Query::<Q>::from_request_parts(&mut parts, &()).await
    }

    #[tokio::test]
    async fn query_refusals_name_the_field() {
        let e = query("/x?limit=ten").await.unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidField, Some("limit"))
        );
        let e = query("/x?color=red").await.unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::UnknownField, Some("color"))
        );
        assert!(query("/x?limit=5").await.is_ok());
    }

    #[tokio::test]
    async fn body_refusals_are_the_error_shape() {
        let request = |body: &'static str, content_type: &str| {
            Request::builder()
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap()
        };
        let e =
            Json::<Q>::from_request(request("{\"limit\": 1, \"x\": 2}", "application/json"), &())
                .await
                .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::UnknownField, Some("x"))
        );
        let e = Json::<Q>::from_request(request("{", "application/json"), &())
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
        let e = Json::<Q>::from_request(request("{}", "text/plain"), &())
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidContentType);
        // An array of the fields is not a body, though serde would read it.
        let e = Json::<Q>::from_request(request(" [5]", "application/json"), &())
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::InvalidBody, "the body must be a JSON object")
        );
        let Json(q) = Json::<Q>::from_request(request(" {\"limit\": 5}", "application/json"), &())
            .await
            .unwrap();
        assert_eq!(q.limit, Some(5));
    }
}
