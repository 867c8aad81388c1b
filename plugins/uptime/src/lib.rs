//! Example wasmcron plugin that does useful work over HTTP.
//!
//! Input: `{"url": "http://host:port/path", "expect_status": 204, "timeout_ms": 5000}`
//! (`expect_status` and `timeout_ms` are optional). GETs the URL through the standard
//! `wasi:http/outgoing-handler` (with the small client in `plugins/support/http-client`) and
//! returns e.g. `"200 OK in 12 ms"`, the time until the whole response was read. The run fails on a
//! transport error, a denied host (the job's `allowed_hosts`), or an unexpected status:
//! any non-2xx status, or any status other than `expect_status` when that is given.

// The export glue that `generate!` emits passes the tick's fields as flat arguments.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "job",
    path: "../../wit",
});

use plugin_http_client::Request;
use std::time::{Duration, Instant};
use wasmcron::plugin::host::{self, Level};

/// Timeout of each phase of the request when the input gives none.
const DEFAULT_TIMEOUT_MS: u64 = 10_000;

struct Uptime;

/// What one run checks, read from the job's input.
struct Check {
    url: String,
    expect_status: Option<u16>,
    timeout: Duration,
}

impl Guest for Uptime {
    fn run(tick: Tick) -> Result<String, String> {
        let check = Check::from_input(&tick.input)?;
        host::log(Level::Debug, &format!("GET {}", check.url));
        let result = check.run();
        match &result {
            Ok(summary) => host::log(Level::Info, &format!("{}: {summary}", check.url)),
            Err(message) => host::log(Level::Warn, message),
        }
        result
    }
}

impl Check {
    fn from_input(input: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(input).map_err(|e| format!("input is not JSON: {e}"))?;
        let url = value
            .get("url")
            .and_then(serde_json::Value::as_str)
            .ok_or("input needs a string field \"url\", e.g. {\"url\": \"http://example.com/\"}")?
            .to_owned();
        let expect_status = match value.get("expect_status") {
            None | Some(serde_json::Value::Null) => None,
            Some(status) => Some(
                status
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| {
                        format!("\"expect_status\" must be an HTTP status, got {status}")
                    })?,
            ),
        };
        let timeout_ms = match value.get("timeout_ms") {
            None | Some(serde_json::Value::Null) => DEFAULT_TIMEOUT_MS,
            Some(ms) => ms
                .as_u64()
                .ok_or_else(|| format!("\"timeout_ms\" must be a whole number, got {ms}"))?,
        };
        Ok(Self {
            url,
            expect_status,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    /// Sends the request and judges the answer.
    fn run(&self) -> Result<String, String> {
        let started = Instant::now();
        let response = Request::get(self.url.as_str())
            .timeout(self.timeout)
            .send()
            .map_err(|e| format!("GET {} failed: {e}", self.url))?;
        let elapsed_ms = started.elapsed().as_millis();

        let status = response.status;
        let summary = format!("{status} in {elapsed_ms} ms");
        let expected = match self.expect_status {
            Some(expected) => status.as_u16() == expected,
            None => status.is_success(),
        };
        if expected {
            Ok(summary)
        } else {
            let wanted = self
                .expect_status
                .map_or_else(|| "a 2xx status".to_owned(), |s| format!("status {s}"));
            Err(format!(
                "GET {} answered {summary}, expected {wanted}",
                self.url
            ))
        }
    }
}

export!(Uptime);
