//! The host crate's integration tests: the plugin runtime with real components, and the
//! `wasmcron` binary's offline commands. One test binary, one module per area, one set of
//! helpers (`support`). `cargo test -p wasmcron --test all -- runtime::` runs one area.

mod cli;
mod runtime;
mod support;
