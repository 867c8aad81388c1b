//! `wasmcron job add|list|get|edit|pause|resume|delete|trigger|runs`.

mod args;
mod body;
mod commands;
mod output;

pub use args::JobCommand;
pub use commands::run_job;
