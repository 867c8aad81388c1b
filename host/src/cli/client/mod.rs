//! The command-line client of the HTTP API: `wasmcron job …`, `instances`, `plugins`,
//! `settings …`, `token …`, `events`, `audit`. Human tables by default, `--output json` for programs.

mod audit;
mod cluster;
mod error;
mod events;
mod http;
mod jobs;
mod output;
mod table;
mod tokens;

use std::process::ExitCode;

pub use audit::{AuditArgs, run_audit};
pub use cluster::{SettingsCommand, run_instances, run_plugins, run_settings};
pub use error::ClientError;
pub use events::{EventsArgs, run_events};
pub use jobs::{JobCommand, run_job};
pub use tokens::{TokenCommand, run_token};

/// Where the server is and how to print; every client command takes these.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Base URL of any replica.
    #[arg(
        long,
        env = "WASMCRON_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// Bearer token for the API (the replica's WASMCRON_API_TOKEN).
    #[arg(long, env = "WASMCRON_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Output format (`yaml`: `job export` only, where it is the default).
    #[arg(long, short = 'o', default_value = "table", value_parser = ["table", "json", "yaml"], global = true)]
    pub output: String,
}

impl ClientArgs {
    /// True for `--output json`.
    pub fn json(&self) -> bool {
        self.output == "json"
    }
}

/// Run a client command on a small runtime and turn its error into a message and exit code.
pub fn block_on<F>(work: F) -> anyhow::Result<ExitCode>
where
    F: Future<Output = Result<(), ClientError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(work) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
