//! Test-only wasmcron plugin: misbehaves in the way the tick's input asks for, so that host
//! tests can prove the sandbox holds. Input: `{"do": "<action>", ...}`.
//!
//! | `do`        | behaviour                                                              |
//! |-------------|------------------------------------------------------------------------|
//! | `ok`        | returns `Ok("ok")`                                                     |
//! | `loop`      | spins forever (the host must stop it by CPU time)                      |
//! | `grow`      | allocates 1 MiB blocks without bound: a trapping memory limiter stops  |
//! |             | the run, else `Err` with the MiB allocated once an allocation fails    |
//! | `read-file` | reads `/etc/passwd`; `Err` with the error (or `Ok` with the length!)   |
//! | `env`       | counts environment variables; `Err` naming the count (0 expected)      |
//! | `http`      | GETs input `url`; `Err` with the error, `Ok("<status>")` on an answer  |
//! | `sleep`     | sleeps `ms` (default 1000); `"busy": true` spins on the clock instead  |
//! | `panic`     | panics (a trap, since plugins abort on panic)                          |
//! | `state`     | `state-set` then `state-get` of key `misbehave`; `Ok` if they match    |
//! | `log-flood` | logs `lines` (default 100 000) lines through `host::log`               |
//! | `stdout`    | writes `bytes` (default 1 MiB) to stdout; `Ok`/`Err` with the outcome  |
//!
//! Written on the `wasmcron-plugin` SDK.

use serde_json::Value;
use std::io::Write as _;
use std::time::{Duration, Instant};
use wasmcron_plugin::{Tick, http, info, state};

fn misbehave(tick: &Tick, input: Value) -> Result<String, String> {
    let action = input.get("do").and_then(Value::as_str).unwrap_or("ok");
    match action {
        "ok" => Ok("ok".to_owned()),
        "loop" => spin_forever(),
        "grow" => grow_without_bound(),
        "read-file" => read_file(),
        "env" => environment(),
        "http" => http_get(&input),
        "sleep" => sleep(&input),
        "panic" => panic!("misbehave: deliberate panic"),
        "state" => state_roundtrip(tick),
        "log-flood" => log_flood(&input),
        "stdout" => flood_stdout(&input),
        other => Err(format!("unknown action {other:?}")),
    }
}

/// A whole-number input field, or `default` when absent.
fn number(input: &Value, field: &str, default: u64) -> u64 {
    input.get(field).and_then(Value::as_u64).unwrap_or(default)
}

fn spin_forever() -> Result<String, String> {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

fn grow_without_bound() -> Result<String, String> {
    const BLOCK: usize = 1 << 20;
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = Vec::new();
        if block.try_reserve_exact(BLOCK).is_err() || blocks.try_reserve(1).is_err() {
            let mib = blocks.len();
            // Free the memory first: the message itself needs a little.
            drop(blocks);
            return Err(format!("allocation failed after {mib} MiB"));
        }
        // Touch the memory so that it is really committed.
        block.resize(BLOCK, 0xA5);
        blocks.push(std::hint::black_box(block));
    }
}

fn read_file() -> Result<String, String> {
    match std::fs::read_to_string("/etc/passwd") {
        Ok(text) => Ok(format!("read /etc/passwd: {} bytes", text.len())),
        Err(e) => Err(format!("read /etc/passwd failed: {e}")),
    }
}

fn environment() -> Result<String, String> {
    let names: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    Err(format!("{} environment variables: {names:?}", names.len()))
}

fn http_get(input: &Value) -> Result<String, String> {
    let url = input
        .get("url")
        .and_then(Value::as_str)
        .ok_or("input needs a string field \"url\"")?;
    http::get(url)
        .send()
        .map(|response| response.status.to_string())
        .map_err(|e| format!("GET {url} failed: {e}"))
}

fn sleep(input: &Value) -> Result<String, String> {
    let duration = Duration::from_millis(number(input, "ms", 1000));
    let busy = input.get("busy").and_then(Value::as_bool).unwrap_or(false);
    let started = Instant::now();
    if busy {
        while started.elapsed() < duration {
            std::hint::spin_loop();
        }
    } else {
        std::thread::sleep(duration);
    }
    Ok(format!("slept {} ms", started.elapsed().as_millis()))
}

fn state_roundtrip(tick: &Tick) -> Result<String, String> {
    const KEY: &str = "misbehave";
    let value = format!("{}@{}#{}", tick.job_id, tick.scheduled_at, tick.attempt).into_bytes();
    state::set_bytes(KEY, &value).map_err(|e| format!("state-set failed: {e}"))?;
    match state::get_bytes(KEY) {
        Some(read) if read == value => Ok("state roundtrip ok".to_owned()),
        Some(read) => Err(format!(
            "state-get returned {:?}, expected {:?}",
            String::from_utf8_lossy(&read),
            String::from_utf8_lossy(&value)
        )),
        None => Err("state-get returned nothing after state-set".to_owned()),
    }
}

fn log_flood(input: &Value) -> Result<String, String> {
    let lines = number(input, "lines", 100_000);
    for line in 0..lines {
        info!("log flood line {line}");
    }
    Ok(format!("logged {lines} lines"))
}

fn flood_stdout(input: &Value) -> Result<String, String> {
    let bytes = usize::try_from(number(input, "bytes", 1 << 20)).unwrap_or(usize::MAX);
    let line = [b'x'; 1023];
    let mut stdout = std::io::stdout().lock();
    let mut written = 0;
    while written < bytes {
        let chunk = &line[..(bytes - written).min(line.len())];
        stdout
            .write_all(chunk)
            .and_then(|()| stdout.write_all(b"\n"))
            .map_err(|e| format!("stdout failed after {written} bytes: {e}"))?;
        written += chunk.len() + 1;
    }
    stdout
        .flush()
        .map_err(|e| format!("stdout flush failed: {e}"))?;
    Ok(format!("wrote {written} bytes to stdout"))
}

wasmcron_plugin::job!(misbehave);
