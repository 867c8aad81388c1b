//! Test-only wasmcron plugin: reports each execution to an HTTP collector, so that tests
//! can count the executions whose side effect really happened.
//!
//! Input: `{"collector": "http://127.0.0.1:PORT/report"}`, optionally `"sleep_ms": N` to work
//! for N milliseconds before reporting (a slow job, to exercise the overlap policies). POSTs
//! one JSON line `{"job_id", "scheduled_at", "instance_id", "attempt", "catch_up"}` and fails
//! the run when the POST fails or the collector answers with a non-2xx status.

// The export glue that `generate!` emits passes the tick's fields as flat arguments.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "job",
    path: "../../../wit",
});

use plugin_http_client::Request;
use serde_json::{Value, json};
use wasmcron::plugin::host::{self, Level};

struct Reporter;

impl Guest for Reporter {
    fn run(tick: Tick) -> Result<String, String> {
        let input: Value =
            serde_json::from_str(&tick.input).map_err(|e| format!("input is not JSON: {e}"))?;
        let collector = input
            .get("collector")
            .and_then(Value::as_str)
            .ok_or("input needs a string field \"collector\"")?;
        match input.get("sleep_ms") {
            None | Some(Value::Null) => {}
            Some(ms) => {
                let ms = ms
                    .as_u64()
                    .ok_or("input field \"sleep_ms\" must be a non-negative integer")?;
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
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
        let result = post(collector, line);
        if let Err(message) = &result {
            host::log(Level::Warn, message);
        }
        result
    }
}

/// POSTs `line` to `collector` and returns the answer's status.
fn post(collector: &str, line: String) -> Result<String, String> {
    let response = Request::post(collector)
        .header("content-type", "application/json")
        .body(line)
        .send()
        .map_err(|e| format!("POST {collector} failed: {e}"))?;
    if response.is_success() {
        Ok(format!("reported: {}", response.status))
    } else {
        Err(format!("POST {collector} answered {}", response.status))
    }
}

export!(Reporter);
