//! Errors of the HTTP client.

use wasip2::http::types::ErrorCode;

/// Why a request got no usable response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be sent.
    #[error("invalid url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The request could not be built (bad header, method or scheme).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The host refused the request: the job's `allowed_hosts` do not reach `authority` (not
    /// listed, or an internal address under a wildcard); the run's log names the rule.
    #[error("request to {authority} denied by the job's allowed_hosts (the run's log says why)")]
    Denied { authority: String },
    /// The network failed the request: refused, timed out, DNS failure, ...
    #[error("{}", describe_error_code(.0))]
    Transport(ErrorCode),
    /// Reading the response body failed.
    #[error("reading the response body failed: {0}")]
    Body(String),
}

/// A short human-readable description of a `wasi:http` error code.
pub fn describe_error_code(code: &ErrorCode) -> String {
    match code {
        ErrorCode::HttpRequestDenied => {
            "request denied by the job's allowed_hosts (the run's log says why)".to_owned()
        }
        ErrorCode::ConnectionRefused => "connection refused".to_owned(),
        ErrorCode::ConnectionTerminated => "connection terminated".to_owned(),
        ErrorCode::ConnectionTimeout => "connection timed out".to_owned(),
        ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout => {
            "timed out waiting for the response".to_owned()
        }
        ErrorCode::DnsTimeout => "DNS lookup timed out".to_owned(),
        ErrorCode::DnsError(payload) => match (&payload.rcode, payload.info_code) {
            (Some(rcode), _) => format!("DNS lookup failed ({rcode})"),
            (None, Some(code)) => format!("DNS lookup failed (code {code})"),
            (None, None) => "DNS lookup failed".to_owned(),
        },
        ErrorCode::DestinationNotFound => "destination not found".to_owned(),
        ErrorCode::DestinationUnavailable => "destination unavailable".to_owned(),
        ErrorCode::TlsCertificateError => "TLS certificate error".to_owned(),
        ErrorCode::TlsProtocolError => "TLS protocol error".to_owned(),
        ErrorCode::HttpProtocolError => "HTTP protocol error".to_owned(),
        ErrorCode::HttpResponseIncomplete => "incomplete HTTP response".to_owned(),
        ErrorCode::InternalError(Some(detail)) => format!("internal error: {detail}"),
        other => format!("{other:?}"),
    }
}
