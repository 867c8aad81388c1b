//! A small blocking HTTP client for wasmcron plugins, over the standard
//! `wasi:http/outgoing-handler` interface (WASI 0.2, through the `wasip2` bindings).
//!
//! The host only lets a run reach the job's `allowed_hosts`; any other request fails with
//! [`HttpError::Transport`] carrying `HttpRequestDenied`.
//!
//! ```no_run
//! let response = plugin_http_client::Request::get("http://example.com/")
//!     .timeout(std::time::Duration::from_secs(5))
//!     .send()?;
//! assert!(response.is_success());
//! # Ok::<(), plugin_http_client::HttpError>(())
//! ```

mod error;
mod exchange;
mod target;

pub use error::{HttpError, describe_error_code};
pub use target::Target;

use std::time::Duration;

/// Response bodies are read up to this many bytes; the rest is left unread.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// An HTTP request to send.
#[derive(Clone, Debug)]
pub struct Request {
    method: http::Method,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
    max_body_bytes: usize,
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: http::StatusCode,
    /// The body, up to the request's body limit.
    pub body: Vec<u8>,
    /// True when the body was longer than the limit and was cut.
    pub truncated: bool,
}

impl Response {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
}

impl Request {
    /// A request with `method` to `url` (`http://` or `https://`).
    pub fn new(method: http::Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// A GET request, without a body.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(http::Method::GET, url)
    }

    /// A POST request; give its body with [`Request::body`].
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(http::Method::POST, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body (sent with a `content-length`).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Bounds connecting, waiting for the first response byte and each wait between bytes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Reads at most `max` bytes of the response body.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Sends the request and waits for the whole response (up to the body limit).
    pub fn send(self) -> Result<Response, HttpError> {
        let target = Target::parse(&self.url)?;
        exchange::send(&self, &target)
    }
}
