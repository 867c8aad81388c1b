//! A blocking HTTP client over the standard `wasi:http/outgoing-handler` interface (WASI 0.2).
//!
//! The host lets a run reach only the hosts in its job's `allowed_hosts`; a request to any
//! other host fails with [`HttpError::Denied`], which names the host.
//!
//! ```no_run
//! use std::time::Duration;
//! use wasmcron_plugin::{Result, bail, http};
//!
//! #[derive(serde::Deserialize)]
//! struct Health {
//!     status: String,
//! }
//!
//! fn check(url: &str) -> Result<String> {
//!     let response = http::get(url).timeout(Duration::from_secs(5)).send()?;
//!     if !response.is_success() {
//!         bail!("{url} answered {}", response.status);
//!     }
//!     let health: Health = response.json()?;
//!     Ok(health.status)
//! }
//! ```
//!
//! Sending JSON:
//!
//! ```no_run
//! # use wasmcron_plugin::http;
//! let response = http::Request::post("https://hooks.example.com/report")
//!     .json(&serde_json::json!({"ok": true}))?
//!     .send()?;
//! # Ok::<(), wasmcron_plugin::Error>(())
//! ```

mod error;
mod exchange;
mod target;

pub use error::{HttpError, describe_error_code};
pub use http::{Method, StatusCode};
pub use target::Target;

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Response bodies are read up to this many bytes unless the request says otherwise; the rest
/// is left unread.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// A GET request to `url`: `http::get(url).send()`.
pub fn get(url: impl Into<String>) -> Request {
    Request::get(url)
}

/// An HTTP request to send.
#[derive(Clone, Debug)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
    max_body_bytes: usize,
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: StatusCode,
    /// The response headers, names in lower case, in the order received.
    pub headers: Vec<(String, Vec<u8>)>,
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

    /// The first value of header `name` (case-insensitive), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body)
            .map_err(|e| HttpError::Body(format!("the body is not UTF-8 text: {e}")))
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        if self.truncated {
            return Err(HttpError::Body(format!(
                "the body is longer than the limit of {} bytes; raise it with Request::max_body_bytes",
                self.body.len()
            )));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| HttpError::Body(format!("the body is not the expected JSON: {e}")))
    }
}

impl Request {
    /// A request with `method` to `url` (`http://` or `https://`).
    pub fn new(method: Method, url: impl Into<String>) -> Self {
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
        Self::new(Method::GET, url)
    }

    /// A POST request; give its body with [`Request::body`] or [`Request::json`].
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::POST, url)
    }

    /// A PUT request; give its body with [`Request::body`] or [`Request::json`].
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::PUT, url)
    }

    /// A DELETE request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::DELETE, url)
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

    /// Sets a JSON body and the `content-type: application/json` header.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, HttpError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| HttpError::InvalidRequest(format!("cannot encode the JSON body: {e}")))?;
        Ok(self.header("content-type", "application/json").body(body))
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
