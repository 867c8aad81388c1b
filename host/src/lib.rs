//! wasmcron: a highly available cron host that runs every job as a sandboxed WebAssembly
//! component.
//!
//! Data flows one way: [`store`] (the database) → [`cluster`] ownership → [`scheduler`]
//! timers → [`runtime`] (plugin run) → run record back in the [`store`]. The [`settings`]
//! cache and the [`api`] sit beside that flow; a [`replica::Replica`] wires them together.

pub mod alerts;
pub mod api;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod dashboard;
pub mod events;
pub mod housekeeping;
pub mod jobs;
pub mod jobs_file;
pub mod metrics;
pub mod registry;
pub mod replica;
pub mod runtime;
pub mod schedule;
pub mod scheduler;
pub mod settings;
pub mod store;
