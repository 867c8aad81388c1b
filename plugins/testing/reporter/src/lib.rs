//! Test-only wasmcron plugin: reports each execution to an HTTP collector, so that tests
//! can count the executions whose side effect really happened.
//!
//! Input: `{"collector": "http://127.0.0.1:PORT/report"}`, optionally `"sleep_ms": N` to work
//! for N milliseconds before reporting (a slow job, to exercise the overlap policies), and
//! `"report_config": ["KEY", ...]` to read those config keys (`config-get`) and add them to
//! the report as `"config": {"KEY": value or null}` (the values are also logged, printed and
//! put in the result, so that tests can check what the host keeps of them). POSTs one JSON
//! line `{"job_id", "scheduled_at", "instance_id", "attempt", "catch_up"}` and fails the run
//! when the POST fails or the collector answers with a non-2xx status.
//!
//! Written on the `wasmcron-plugin` SDK.

#![forbid(unsafe_code)]

use serde::Deserialize;
use serde_json::json;
use wasmcron_plugin::{Context, Result, Tick, bail, config, http, info, warn};

#[derive(Debug, Deserialize)]
struct Input {
    collector: String,
    sleep_ms: Option<u64>,
    #[serde(default)]
    report_config: Vec<String>,
}

fn report(tick: &Tick, input: Input) -> Result<String> {
    if let Some(ms) = input.sleep_ms {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let mut report = json!({
        "job_id": tick.job_id,
        "scheduled_at": tick.scheduled_at,
        "instance_id": tick.instance_id,
        "attempt": tick.attempt,
        "catch_up": tick.catch_up,
    });
    let mut seen = String::new();
    if !input.report_config.is_empty() {
        let mut values = serde_json::Map::new();
        for key in &input.report_config {
            let value = config::get(key);
            info!("config {key} = {value:?}");
            println!("config {key} = {value:?}");
            seen.push_str(&format!("; {key} = {value:?}"));
            values.insert(key.clone(), json!(value));
        }
        report["config"] = values.into();
    }
    let mut line = report.to_string();
    line.push('\n');
    let result = post(&input.collector, line).map(|status| format!("{status}{seen}"));
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
