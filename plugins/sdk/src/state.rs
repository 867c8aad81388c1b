//! Durable per-job state: values that survive runs, replicas and failover.
//!
//! Values are stored under string keys (up to 256 bytes; values up to 1 MiB). [`get`],
//! [`set`] and [`update`] store any serde type as JSON; [`get_bytes`] and [`set_bytes`] store
//! raw bytes.
//!
//! A write is refused when this run has lost ownership of its job (another replica took the
//! job over, for example after a network partition), so that a stale run cannot overwrite
//! newer state: the error says so, and the job should return it, which fails the run.
//!
//! ```no_run
//! use wasmcron_plugin::{Result, state};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Default)]
//! struct Seen {
//!     last_status: u16,
//!     failures: u32,
//! }
//!
//! fn remember(status: u16) -> Result<u32> {
//!     let mut seen: Seen = state::get("seen")?.unwrap_or_default();
//!     seen.last_status = status;
//!     if status >= 500 {
//!         seen.failures += 1;
//!     }
//!     state::set("seen", &seen)?;
//!     Ok(seen.failures)
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::wasmcron::plugin::host;
use crate::{Context, Error, Result};

/// The value under `key`, decoded from JSON; `None` when there is none.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    match get_bytes(key) {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("state {key:?} does not hold the expected JSON")),
    }
}

/// Stores `value` under `key`, as JSON.
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value)
        .with_context(|| format!("state {key:?}: cannot encode the value"))?;
    set_bytes(key, &bytes)
}

/// Reads the value under `key`, computes the next one with `next` and stores it; returns what
/// was stored. Handy for counters:
///
/// ```no_run
/// let run = wasmcron_plugin::state::update("runs", |runs: Option<u64>| runs.unwrap_or(0) + 1)?;
/// # Ok::<(), wasmcron_plugin::Error>(())
/// ```
///
/// A job's runs do not overlap unless its overlap policy is `allow`, so the read and the
/// write see no other run of the job in between.
pub fn update<T, F>(key: &str, next: F) -> Result<T>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(Option<T>) -> T,
{
    let value = next(get(key)?);
    set(key, &value)?;
    Ok(value)
}

/// The raw bytes under `key`; `None` when there are none.
pub fn get_bytes(key: &str) -> Option<Vec<u8>> {
    host::state_get(key)
}

/// Stores raw bytes under `key`. Fails when the host refuses the write: the run lost
/// ownership of its job, or the value is too large.
pub fn set_bytes(key: &str, value: &[u8]) -> Result<()> {
    host::state_set(key, value)
        .map_err(|reason| Error::msg(format!("cannot save state {key:?}: {reason}")))
}
