//! Example wasmcron plugin.
//!
//! Greets the `name` from the job's input (`{"name": "world"}`) with the greeting from the
//! job's config (`greeting`, default "Hello"), counts its runs in durable state and
//! returns e.g. `"Hello, world! (run #3)"`.

// The export glue that `generate!` emits passes the tick's fields as flat arguments.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    world: "job",
    path: "../../wit",
});

use wasmcron::plugin::host::{self, Level};

/// Durable state key of the run counter (a little-endian u64).
const COUNT_KEY: &str = "count";

struct Hello;

impl Guest for Hello {
    fn run(tick: Tick) -> Result<String, String> {
        let greeting = host::config_get("greeting").unwrap_or_else(|| "Hello".to_owned());
        let name = name_from_input(&tick.input)?;
        let run_number = next_run_number()?;
        host::log(
            Level::Info,
            &format!(
                "job {} greets {name} (tick {}, attempt {}, run #{run_number})",
                tick.job_name, tick.scheduled_at, tick.attempt
            ),
        );
        Ok(format!("{greeting}, {name}! (run #{run_number})"))
    }
}

/// The `name` field of the job's JSON input; "world" when the input has none.
fn name_from_input(input: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(input).map_err(|e| format!("input is not JSON: {e}"))?;
    match value.get("name") {
        None | Some(serde_json::Value::Null) => Ok("world".to_owned()),
        Some(serde_json::Value::String(name)) => Ok(name.clone()),
        Some(other) => Err(format!(
            "input field \"name\" must be a string, got {other}"
        )),
    }
}

/// Increments the durable run counter and returns its new value.
fn next_run_number() -> Result<u64, String> {
    let previous = match host::state_get(COUNT_KEY) {
        None => 0,
        Some(bytes) => {
            let bytes: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                format!(
                    "state {COUNT_KEY:?} holds {} bytes, expected 8",
                    bytes.len()
                )
            })?;
            u64::from_le_bytes(bytes)
        }
    };
    let next = previous + 1;
    host::state_set(COUNT_KEY, &next.to_le_bytes())
        .map_err(|e| format!("cannot save the run counter: {e}"))?;
    Ok(next)
}

export!(Hello);
