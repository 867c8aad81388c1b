//! The `wasmcron` command line. The binary is a thin shell around [`main`].

mod client;
mod plugin_check;
mod plugin_compile;
pub(crate) mod plugin_registry;
mod schedule_next;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// wasmcron: a highly available cron host that runs every job as a sandboxed WebAssembly
/// component.
#[derive(Debug, Parser)]
#[command(name = "wasmcron", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a replica: schedule and run jobs, serve the HTTP API.
    Serve(serve::ServeArgs),
    /// Inspect plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Work with schedule expressions.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Apply database migrations and exit.
    Migrate(serve::DbArgs),
    /// Manage jobs through the API of a running replica.
    Job(JobArgs),
    /// List the live replicas.
    Instances(client::ClientArgs),
    /// List the plugins of the replica answering.
    Plugins(client::ClientArgs),
    /// Read and change cluster settings.
    Settings(SettingsArgs),
    /// Manage API tokens (create, list, revoke) and show the one in use.
    Token(TokenArgs),
    /// Follow the cluster's events (runs, job changes, replicas, plugins).
    Events(EventsCommand),
    /// Show who changed which job, setting or token, newest first.
    Audit(AuditCommand),
}

#[derive(Debug, clap::Args)]
struct JobArgs {
    #[command(flatten)]
    client: client::ClientArgs,
    #[command(subcommand)]
    command: client::JobCommand,
}

#[derive(Debug, clap::Args)]
struct SettingsArgs {
    #[command(flatten)]
    client: client::ClientArgs,
    #[command(subcommand)]
    command: client::SettingsCommand,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    #[command(flatten)]
    client: client::ClientArgs,
    #[command(subcommand)]
    command: client::TokenCommand,
}

#[derive(Debug, clap::Args)]
struct EventsCommand {
    #[command(flatten)]
    client: client::ClientArgs,
    #[command(flatten)]
    events: client::EventsArgs,
}

#[derive(Debug, clap::Args)]
struct AuditCommand {
    #[command(flatten)]
    client: client::ClientArgs,
    #[command(flatten)]
    audit: client::AuditArgs,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Load a component, check that it implements the wasmcron job world, print its imports
    /// and exports.
    Check(plugin_check::CheckArgs),
    /// Compile a component into the compiled cache (as a replica does, in a child process).
    Compile(plugin_compile::CompileArgs),
    /// Push a component to an OCI registry as a wasm artifact; prints the manifest and
    /// content digests.
    Push(plugin_registry::PushArgs),
    /// Pull a component from an OCI registry into a file.
    Pull(plugin_registry::PullArgs),
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Print the next instants of a schedule (the scheduler's own code path).
    Next(schedule_next::NextArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Plugin(PluginCommand::Check(args)) => plugin_check::run(args),
        Command::Plugin(PluginCommand::Compile(args)) => plugin_compile::run(args),
        Command::Plugin(PluginCommand::Push(args)) => plugin_registry::push(args),
        Command::Plugin(PluginCommand::Pull(args)) => plugin_registry::pull(args),
        Command::Schedule(ScheduleCommand::Next(args)) => schedule_next::run(args),
        Command::Migrate(args) => serve::migrate(args),
        Command::Job(a) => client::block_on(client::run_job(&a.client, a.command)),
        Command::Instances(c) => client::block_on(client::run_instances(&c)),
        Command::Plugins(c) => client::block_on(client::run_plugins(&c)),
        Command::Settings(a) => client::block_on(client::run_settings(&a.client, a.command)),
        Command::Token(a) => client::block_on(client::run_token(&a.client, a.command)),
        Command::Events(a) => client::block_on(client::run_events(&a.client, a.events)),
        Command::Audit(a) => client::block_on(client::run_audit(&a.client, a.audit)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
