//! The job's configuration: the job's own `config` first, then the cluster settings.
//!
//! ```no_run
//! use wasmcron_plugin::{Result, config};
//!
//! fn settings() -> Result<(String, u32)> {
//!     let greeting = config::get_or("greeting", "Hello");
//!     let retries = config::parse::<u32>("retries")?.unwrap_or(3);
//!     Ok((greeting, retries))
//! }
//! ```

use std::str::FromStr;

use crate::bindings::wasmcron::plugin::host;
use crate::{Error, Result};

/// The value of `key`; `None` when neither the job nor the cluster sets it.
pub fn get(key: &str) -> Option<String> {
    host::config_get(key)
}

/// The value of `key`, or `default`.
pub fn get_or(key: &str, default: &str) -> String {
    get(key).unwrap_or_else(|| default.to_owned())
}

/// The value of `key` parsed as a `T`; `None` when unset, an error naming the key and the
/// value when it does not parse.
pub fn parse<T>(key: &str) -> Result<Option<T>>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match get(key) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|e| {
            Error::msg(format!(
                "config {key:?} = {text:?} is not a valid {}: {e}",
                std::any::type_name::<T>()
            ))
        }),
    }
}
