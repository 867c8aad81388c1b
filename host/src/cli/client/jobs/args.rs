//! The command line of `wasmcron job …`: subcommands and their flags.

use std::path::PathBuf;

/// Job fields settable from the command line (`add` and `edit`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FieldArgs {
    /// Cron expression (5 or 6 fields), @hourly…, or @every <duration>.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Plugin name (file stem in the plugins directory).
    #[arg(long)]
    pub plugin: Option<String>,
    /// IANA time zone of the schedule (default UTC).
    #[arg(long)]
    pub timezone: Option<String>,
    /// JSON handed to the plugin on every tick.
    #[arg(long)]
    pub input: Option<String>,
    /// A config value for the plugin, KEY=VALUE (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// A config key read from the replica's secrets directory, KEY=SECRET_NAME (repeatable):
    /// names only, the value stays in the file.
    #[arg(long = "secret", value_name = "KEY=SECRET_NAME")]
    pub secrets: Vec<String>,
    /// skip, allow or queue.
    #[arg(long)]
    pub overlap: Option<String>,
    /// skip, run_once or run_all.
    #[arg(long)]
    pub misfire: Option<String>,
    /// How far back missed ticks are caught up (e.g. 1h).
    #[arg(long)]
    pub catchup_window: Option<String>,
    /// Deterministic per-job delay bound (e.g. 10s).
    #[arg(long)]
    pub jitter: Option<String>,
    /// Run timeout (e.g. 30s).
    #[arg(long)]
    pub timeout: Option<String>,
    /// Memory limit, bytes or a size such as 64MiB.
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// A host the plugin may call over HTTP (repeatable).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Attempts of a failed tick in all, the first included (1 to 100). Any --retry-* flag
    /// sets the job's whole retry policy (the ones not given take their defaults).
    #[arg(long, value_name = "N")]
    pub retry_attempts: Option<u32>,
    /// Delay before the second attempt, doubling after each (default 10s).
    #[arg(long, value_name = "DURATION")]
    pub retry_backoff: Option<String>,
    /// Longest delay between attempts (default 1h).
    #[arg(long, value_name = "DURATION")]
    pub retry_max_backoff: Option<String>,
    /// Pause the job after this many consecutive ticks whose last attempt failed.
    #[arg(long, value_name = "N")]
    pub pause_after_failures: Option<u32>,
    /// The job is stale when it has not succeeded for this long (e.g. 1h).
    #[arg(long, value_name = "DURATION")]
    pub stale_after: Option<String>,
}

/// `wasmcron job <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum JobCommand {
    /// Create a job.
    Add {
        /// Job name (unique).
        name: Option<String>,
        #[command(flatten)]
        fields: FieldArgs,
        /// Create it paused.
        #[arg(long)]
        paused: bool,
        /// Read the job's JSON from a file (`-` for stdin); flags override its fields.
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
    /// List jobs.
    List {
        /// Only jobs of this plugin.
        #[arg(long)]
        plugin: Option<String>,
        /// Only active or paused jobs.
        #[arg(long, value_parser = ["active", "paused"])]
        status: Option<String>,
        /// At most this many (default: all).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show a job.
    Get { job: String },
    /// Change some fields of a job.
    Edit {
        job: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: FieldArgs,
    },
    /// Pause a job (no ticks until resumed).
    Pause { job: String },
    /// Resume a paused job.
    Resume { job: String },
    /// Delete a job with its runs and state.
    Delete { job: String },
    /// Run a job now, as a manual tick.
    Trigger { job: String },
    /// Show a job's runs, newest first.
    Runs {
        job: String,
        /// Only runs with this status.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Make the cluster's jobs a jobs file's (YAML, or JSON for a .json name): create the
    /// jobs it lists, update those that differ, print the plan.
    Apply {
        /// The jobs file.
        file: PathBuf,
        /// Print the plan only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also delete the jobs this file created earlier that it no longer lists.
        #[arg(long)]
        prune: bool,
        /// The name the jobs it creates are managed by (default: FILE as given); applying
        /// the file again must use the same.
        #[arg(long)]
        source: Option<String>,
    },
    /// Print every job in the jobs file format (YAML; JSON with -o json).
    Export,
}
