//! Write [wasmcron](https://example.invalid/wasmcron) plugins in Rust.
//!
//! A wasmcron plugin is a WebAssembly component that the host calls once per tick of every job
//! that names it. With this crate a plugin is one ordinary function: it receives the [`Tick`]
//! and the job's input, deserialized into any type that implements
//! [`serde::Deserialize`], and returns its result text or an [`Error`] that fails the run.
//! [`job!`] makes that function the plugin's `run` export.
//!
//! ```no_run
//! use serde::Deserialize;
//! use wasmcron_plugin::{Result, Tick, config, info, state};
//!
//! /// The job's input, e.g. `{"name": "team"}`.
//! #[derive(Deserialize, Default)]
//! struct Input {
//!     name: Option<String>,
//! }
//!
//! fn greet(tick: &Tick, input: Input) -> Result<String> {
//!     let greeting = config::get_or("greeting", "Hello");
//!     let name = input.name.unwrap_or_else(|| "world".to_owned());
//!     // Durable state survives runs, replicas and failover.
//!     let run = state::update("count", |count: Option<u64>| count.unwrap_or(0) + 1)?;
//!     info!("{} greets {name} (run #{run})", tick.job_name);
//!     Ok(format!("{greeting}, {name}! (run #{run})"))
//! }
//!
//! wasmcron_plugin::job!(greet);
//! ```
//!
//! What the crate offers:
//!
//! - [`job!`]: the export glue. The input is decoded with serde from the job's JSON `input`; a
//!   job without input hands over `null`, which decodes into `()`, an `Option` or a struct
//!   whose fields all have defaults. An input that does not decode fails the run with serde's
//!   message.
//! - [`Error`] and [`Result`]: an error that carries a message, made from any
//!   [`std::error::Error`] with `?`, from text with [`Error::msg`] or [`bail!`], and extended
//!   with [`Context::context`]. Its text becomes the run's error.
//! - [`state`]: durable per-job values, encoded as JSON ([`state::get`], [`state::set`],
//!   [`state::update`]), or raw bytes.
//! - [`config`]: the job's config, then the cluster settings.
//! - [`trace!`], [`debug!`], [`info!`], [`warn!`], [`error!`]: log lines kept with the run.
//! - [`http`]: a blocking HTTP client over `wasi:http`; a host that is not in the job's
//!   `allowed_hosts` is refused with [`http::HttpError::Denied`].
//!
//! A plugin built on this crate contains no `unsafe` code of its own: it can (and the
//! examples do) declare `#![forbid(unsafe_code)]`.
//!
//! # Building
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasip2` (`cargo build --release --target
//! wasm32-wasip2`) or with `cargo component build --release`; see the plugin guide in the
//! repository (`plugins/README.md`) and the template in `plugins/template/`.
//!
//! On other targets the crate compiles (so a plugin's own logic can be unit-tested with
//! `cargo test`), but calling the host from there panics.

#![deny(unsafe_code)]

// The bindings refer to this crate by name, from inside it as from a plugin.
extern crate self as wasmcron_plugin;

pub mod config;
mod error;
pub mod http;
mod input;
pub mod log;
mod output;
pub mod state;
mod tick;

pub use error::{Context, Error, Result};
pub use input::decode_input;
pub use output::{Json, Output};
pub use tick::Tick;

/// Re-exported so that a plugin's input types can derive without naming serde's version.
pub use serde;

/// The generated bindings of the `job` world. Not part of the API: use [`job!`].
#[doc(hidden)]
#[allow(unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "job",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_job_world",
        default_bindings_module: "::wasmcron_plugin::bindings",
        runtime_path: "::wasmcron_plugin::__private::wit_bindgen::rt",
    });
}

/// What [`job!`] expands to. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    use crate::bindings;
    use crate::{Output, Tick};

    /// Decode the tick's input, call the job, turn its outcome into the `run` result.
    pub fn run<I, O, E>(
        tick: bindings::wasmcron::plugin::types::Tick,
        job: impl FnOnce(&Tick, I) -> Result<O, E>,
    ) -> Result<String, String>
    where
        I: serde::de::DeserializeOwned,
        O: Output,
        E: std::fmt::Display,
    {
        let tick = Tick::from(tick);
        let input: I = crate::decode_input(&tick.input).map_err(|e| e.to_string())?;
        match job(&tick, input) {
            Ok(output) => Ok(output.into_text()),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// Makes a function the plugin's job: the host calls it once per tick.
///
/// The function takes the [`Tick`] and the decoded input, and returns `Result<O, E>` where `O`
/// is an [`Output`] (a `String`, a `&str`, `()` or [`Json`]) and `E` is anything that
/// displays (usually [`Error`]). `Ok` is kept with the run as its result (up to 4 KiB), `Err`
/// fails the run with the error's text.
///
/// ```no_run
/// fn check(_tick: &wasmcron_plugin::Tick, _input: ()) -> wasmcron_plugin::Result<&'static str> {
///     Ok("fine")
/// }
/// wasmcron_plugin::job!(check);
/// ```
///
/// Use it once per plugin, at the top level of the crate.
#[macro_export]
macro_rules! job {
    ($job:path) => {
        #[doc(hidden)]
        struct __WasmcronJob;

        impl $crate::bindings::Guest for __WasmcronJob {
            fn run(
                tick: $crate::bindings::wasmcron::plugin::types::Tick,
            ) -> ::core::result::Result<::std::string::String, ::std::string::String> {
                $crate::__private::run(tick, $job)
            }
        }

        $crate::bindings::__export_job_world!(__WasmcronJob with_types_in $crate::bindings);
    };
}
