//! Example wasmcron plugin, on the `wasmcron-plugin` SDK.
//!
//! Greets the `name` from the job's input (`{"name": "world"}`) with the greeting from the
//! job's config (`greeting`, default "Hello"), counts its runs in durable state and
//! returns e.g. `"Hello, world! (run #3)"`.

#![forbid(unsafe_code)]

use serde::Deserialize;
use wasmcron_plugin::{Result, Tick, config, info, state};

/// Durable state key of the run counter (a JSON number).
const COUNT_KEY: &str = "count";

/// The job's input; every field is optional, and a job without input greets "world".
#[derive(Debug, Default, Deserialize)]
struct Input {
    name: Option<String>,
}

fn hello(tick: &Tick, input: Input) -> Result<String> {
    let greeting = config::get_or("greeting", "Hello");
    let name = input.name.unwrap_or_else(|| "world".to_owned());
    let run = state::update(COUNT_KEY, |count: Option<u64>| count.unwrap_or(0) + 1)?;
    info!(
        "job {} greets {name} (tick {}, attempt {}, run #{run})",
        tick.job_name, tick.scheduled_at, tick.attempt
    );
    Ok(format!("{greeting}, {name}! (run #{run})"))
}

wasmcron_plugin::job!(hello);
