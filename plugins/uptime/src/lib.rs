//! Example wasmcron plugin that does useful work over HTTP, on the `wasmcron-plugin` SDK.
//!
//! Input: `{"url": "http://host:port/path", "expect_status": 204, "timeout_ms": 5000}`
//! (`expect_status` and `timeout_ms` are optional). GETs the URL through the standard
//! `wasi:http/outgoing-handler` and returns e.g. `"200 OK in 12 ms"`, the time until the whole
//! response was read. The run fails on a transport error, a denied host (the job's
//! `allowed_hosts`), or an unexpected status: any non-2xx status, or any status other than
//! `expect_status` when that is given.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use serde::Deserialize;
use wasmcron_plugin::{Context, Result, Tick, bail, debug, http, info};

/// What one run checks: the job's input.
#[derive(Debug, Deserialize)]
struct Check {
    url: String,
    expect_status: Option<u16>,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

/// Timeout of each phase of the request when the input gives none.
fn default_timeout_ms() -> u64 {
    10_000
}

fn uptime(_tick: &Tick, check: Check) -> Result<String> {
    debug!("GET {}", check.url);
    let started = Instant::now();
    let response = http::get(check.url.as_str())
        .timeout(Duration::from_millis(check.timeout_ms))
        .send()
        .with_context(|| format!("GET {} failed", check.url))?;
    let summary = format!(
        "{} in {} ms",
        response.status,
        started.elapsed().as_millis()
    );
    let expected = match check.expect_status {
        Some(expected) => response.status.as_u16() == expected,
        None => response.is_success(),
    };
    if !expected {
        let wanted = check
            .expect_status
            .map_or_else(|| "a 2xx status".to_owned(), |s| format!("status {s}"));
        bail!("GET {} answered {summary}, expected {wanted}", check.url);
    }
    info!("{}: {summary}", check.url);
    Ok(summary)
}

wasmcron_plugin::job!(uptime);
