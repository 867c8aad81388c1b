//! A wasmcron job: replace this with your own.
//!
//! The job below reads its input (`{"url": "https://example.com/health"}`), calls the URL,
//! remembers the last status it saw in durable state and logs when it changes. The job's
//! `allowed_hosts` must list the URL's host.

#![forbid(unsafe_code)]

use std::time::Duration;

use serde::Deserialize;
use wasmcron_plugin::{Context, Result, Tick, config, http, info, state, warn};

/// The job's input, decoded from its JSON `input`.
#[derive(Debug, Deserialize)]
struct Input {
    url: String,
}

fn my_job(tick: &Tick, input: Input) -> Result<String> {
    let timeout = config::parse::<u64>("timeout_ms")?.unwrap_or(5_000);
    let response = http::get(input.url.as_str())
        .timeout(Duration::from_millis(timeout))
        .send()
        .with_context(|| format!("GET {} failed", input.url))?;
    let status = response.status.as_u16();
    let previous: Option<u16> = state::get("last_status")?;
    if previous.is_some_and(|p| p != status) {
        warn!("{} changed from {previous:?} to {status}", input.url);
    }
    state::set("last_status", &status)?;
    info!(
        "tick {} (attempt {}): {status}",
        tick.scheduled_at, tick.attempt
    );
    Ok(format!("{} answered {status}", input.url))
}

wasmcron_plugin::job!(my_job);
