//! A thin JSON client of `/api/v1`.

use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use super::ClientArgs;
use super::error::ClientError;

/// Talks to one replica.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    server: String,
    token: Option<String>,
}

/// The innermost cause of a transport error (e.g. "Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

impl Client {
    pub fn new(args: &ClientArgs) -> Self {
        Client {
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            server: args.server.trim_end_matches('/').to_string(),
            token: args.token.clone().filter(|t| !t.is_empty()),
        }
    }

    /// A request to `/api/v1{path}`, with the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self
            .http
            .request(method, format!("{}/api/v1{path}", self.server));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Send, mapping transport failures to [`ClientError::Unreachable`].
    pub async fn send(&self, builder: RequestBuilder) -> Result<Response, ClientError> {
        builder.send().await.map_err(|e| ClientError::Unreachable {
            server: self.server.clone(),
            reason: root_cause(&e),
        })
    }

    /// Send and decode a JSON answer (`Null` for 204); API errors become [`ClientError::Api`].
    pub async fn json(&self, builder: RequestBuilder) -> Result<Value, ClientError> {
        let response = self.send(builder).await?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ClientError::Unreachable {
                server: self.server.clone(),
                reason: root_cause(&e),
            })?;
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| ClientError::Protocol {
                server: self.server.clone(),
                detail: format!(
                    "HTTP {status}: {}",
                    text.chars().take(200).collect::<String>()
                ),
            })?
        };
        if status.is_success() {
            return Ok(body);
        }
        let error = &body["error"];
        Err(ClientError::Api {
            status: status.as_u16(),
            code: error["code"].as_str().unwrap_or("unknown").to_string(),
            message: error["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {status}")),
            field: error["field"].as_str().map(str::to_string),
        })
    }

    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.json(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Option<&Value>) -> Result<Value, ClientError> {
        let builder = self.request(Method::POST, path);
        let builder = match body {
            Some(b) => builder.json(b),
            None => builder,
        };
        self.json(builder).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.json(self.request(Method::PATCH, path).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.json(self.request(Method::PUT, path).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.json(self.request(Method::DELETE, path)).await
    }
}

/// Percent-encode one path segment or query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
