//! The end-to-end tests: the real `wasmcron` binary, real PostgreSQL servers started by the
//! tests, real plugins. One test binary, one module per area, one set of helpers (the
//! `wasmcron-e2e` library). `cargo test -p wasmcron-e2e --test all -- cluster::` runs one area.
//!
//! The tests share one process and, on the project's machines, two cores: each takes its turn
//! ([`wasmcron_e2e::turns`]), alone when it starts several replicas or measures latencies.

mod api;
mod api_limits;
mod api_sse;
mod chaos;
mod cli_client;
mod cluster;
mod egress;
mod settings;
mod single_replica;
