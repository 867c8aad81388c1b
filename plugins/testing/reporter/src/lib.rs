//! Test-only wasmcron plugin: reports each execution to an HTTP collector, so that tests
//! can count the executions whose side effect really happened.
//!
//! Input: `{"collector": "http://127.0.0.1:PORT/report"}`, optionally `"sleep_ms": N` to work
//! for N milliseconds before reporting (a slow job, to exercise the overlap policies). POSTs
//! one JSON line `{"job_id", "scheduled_at", "instance_id", "attempt", "catch_up"}` and fails
//! the run when the POST fails or the collector answers with a non-2xx status.
//!
//! Written on the `wasmcron-plugin` SDK.

#![forbid(unsafe_code)]

use serde::Deserialize;
use serde_json::json;
use wasmcron_plugin::{Context, Result, Tick, bail, http, warn};

#[derive(Debug, Deserialize)]
struct Input {
    collector: String,
    sleep_ms: Option<u64>,
}

fn report(tick: &Tick, input: Input) -> Result<String> {
    if let Some(ms) = input.sleep_ms {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let mut line = json!({
        "job_id": tick.job_id,
        "scheduled_at": tick.scheduled_at,
        "instance_id": tick.instance_id,
        "attempt": tick.attempt,
        "catch_up": tick.catch_up,
    })
    .to_string();
    line.push('\n');
    let result = post(&input.collector, line);
    if let Err(error) = &result {
        warn!("{error}");
    }
    result
}

/// POSTs `line` to `collector` and returns the answer's status.
fn post(collector: &str, line: String) -> Result<String> {
    let response = http::Request::post(collector)
        .header("content-type", "application/json")
        .body(line)
        .send()
        .with_context(|| format!("POST {collector} failed"))?;
    if !response.is_success() {
        bail!("POST {collector} answered {}", response.status);
    }
    Ok(format!("reported: {}", response.status))
}

wasmcron_plugin::job!(report);
