//! Shared support for the end-to-end tests.
//!
//! - [`pg`]: throwaway PostgreSQL servers (one shared per test binary, or one's own).
//! - [`host`]: the real `wasmcron` binary as a child process, and an API client.
//! - [`collector`]: counts executions where the side effect happens.

pub mod collector;
pub mod host;
pub mod pg;
