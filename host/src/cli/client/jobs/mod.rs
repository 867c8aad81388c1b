//! `wasmcron job add|list|get|edit|pause|resume|delete|trigger|runs|apply|export`.

mod args;
mod body;
mod commands;
mod declarative;
mod output;

pub use args::JobCommand;
pub use commands::run_job;
