//! Plain data types that the store reads and writes.
//!
//! Instants are Unix epoch milliseconds (`*_ms`), always stamped by the database clock.
//! Policies, statuses and reasons are enums (stored as their snake_case names); cron expressions
//! and time zones are validated before a value reaches the store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::failure::{FailurePolicy, PausedReason, RetryPolicy};
pub use super::outcome::{RunReason, RunStatus, UnknownRunReason, UnknownRunStatus};
pub use crate::schedule::{MisfirePolicy, OverlapPolicy};

/// Default time zone of a new job.
pub const DEFAULT_TIMEZONE: &str = "UTC";
/// Default catch-up window of a new job: one hour.
pub const DEFAULT_CATCHUP_WINDOW_MS: i64 = 3_600_000;

/// A job definition as stored, with its ownership and bookkeeping columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// UUID v4 string.
    pub id: String,
    /// Unique human name.
    pub name: String,
    /// Cron expression.
    pub schedule: String,
    /// IANA time zone the schedule is evaluated in.
    pub timezone: String,
    /// Plugin reference.
    pub plugin: String,
    /// JSON input handed to every run.
    pub input: serde_json::Value,
    /// Plugin configuration (string → string).
    pub config: BTreeMap<String, String>,
    /// Paused jobs have no ticks.
    pub paused: bool,
    /// Why the host paused the job (`None` when paused by hand, or not paused).
    pub paused_reason: Option<PausedReason>,
    /// Overlap policy.
    pub overlap: OverlapPolicy,
    /// Misfire policy.
    pub misfire: MisfirePolicy,
    /// How far back missed ticks are caught up.
    pub catchup_window_ms: i64,
    /// Maximum random delay added to each tick.
    pub jitter_ms: i64,
    /// Run time limit, if any.
    pub timeout_ms: Option<i64>,
    /// Plugin memory limit, if any.
    pub memory_limit_bytes: Option<i64>,
    /// Hosts the plugin may reach over HTTP.
    pub allowed_hosts: Vec<String>,
    /// Retries, pausing after failures, staleness.
    pub failure: FailurePolicy,
    /// Secrets the plugin reads through `config-get`: config key → secret name (a file of
    /// the secrets directory). Names only, never values.
    pub secrets: BTreeMap<String, String>,
    /// The jobs file (or `job apply` source) the job comes from; `None` for a job made
    /// through the API. A managed job's spec changes only through its file.
    #[serde(default)]
    pub managed_by: Option<String>,
    /// Instance that currently schedules the job.
    pub owner: Option<String>,
    /// Ownership epoch: bumped on every change of owner; fences stale owners.
    pub epoch: i64,
    /// Edit counter: bumped on every edit (optimistic concurrency, cheap reconcile).
    pub version: i64,
    /// Ticks are due only strictly after this instant.
    pub anchor_ms: i64,
    /// When the job was created.
    pub created_at_ms: i64,
    /// When the job was last edited.
    pub updated_at_ms: i64,
}

/// The user-supplied fields of a new job; optional ones take their documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// Unique human name.
    pub name: String,
    /// Cron expression.
    pub schedule: String,
    /// IANA time zone (default `UTC`).
    pub timezone: String,
    /// Plugin reference.
    pub plugin: String,
    /// JSON input (default `null`).
    pub input: serde_json::Value,
    /// Plugin configuration (default empty).
    pub config: BTreeMap<String, String>,
    /// Start paused (default no).
    pub paused: bool,
    /// Overlap policy (default `skip`).
    pub overlap: OverlapPolicy,
    /// Misfire policy (default `run_once`).
    pub misfire: MisfirePolicy,
    /// Catch-up window (default one hour).
    pub catchup_window_ms: i64,
    /// Jitter (default 0).
    pub jitter_ms: i64,
    /// Run time limit (default none).
    pub timeout_ms: Option<i64>,
    /// Memory limit (default none).
    pub memory_limit_bytes: Option<i64>,
    /// Allowed outbound hosts (default none).
    pub allowed_hosts: Vec<String>,
    /// Failure handling (default: the cluster's retry policy, never paused, never stale).
    pub failure: FailurePolicy,
    /// Secrets: config key → secret name (default none).
    pub secrets: BTreeMap<String, String>,
    /// The jobs file (or `job apply` source) that declares the job (default none: made
    /// through the API).
    #[serde(default)]
    pub managed_by: Option<String>,
}

impl NewJob {
    /// A new job with every optional field at its default.
    pub fn new(
        name: impl Into<String>,
        schedule: impl Into<String>,
        plugin: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            schedule: schedule.into(),
            timezone: DEFAULT_TIMEZONE.to_owned(),
            plugin: plugin.into(),
            input: serde_json::Value::Null,
            config: BTreeMap::new(),
            paused: false,
            overlap: OverlapPolicy::default(),
            misfire: MisfirePolicy::default(),
            catchup_window_ms: DEFAULT_CATCHUP_WINDOW_MS,
            jitter_ms: 0,
            timeout_ms: None,
            memory_limit_bytes: None,
            allowed_hosts: Vec::new(),
            failure: FailurePolicy::default(),
            secrets: BTreeMap::new(),
            managed_by: None,
        }
    }
}

/// A partial edit of a job: `None` leaves a field unchanged. For nullable fields the inner
/// `Option` is the new value (`Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobPatch {
    /// New name.
    pub name: Option<String>,
    /// New cron expression (moves the anchor to now).
    pub schedule: Option<String>,
    /// New time zone (moves the anchor to now).
    pub timezone: Option<String>,
    /// New plugin reference.
    pub plugin: Option<String>,
    /// New input.
    pub input: Option<serde_json::Value>,
    /// New configuration (replaces the whole map).
    pub config: Option<BTreeMap<String, String>>,
    /// Pause or resume (resuming moves the anchor to now).
    pub paused: Option<bool>,
    /// New overlap policy.
    pub overlap: Option<OverlapPolicy>,
    /// New misfire policy.
    pub misfire: Option<MisfirePolicy>,
    /// New catch-up window.
    pub catchup_window_ms: Option<i64>,
    /// New jitter.
    pub jitter_ms: Option<i64>,
    /// New run time limit.
    pub timeout_ms: Option<Option<i64>>,
    /// New memory limit.
    pub memory_limit_bytes: Option<Option<i64>>,
    /// New allowed hosts (replaces the whole list).
    pub allowed_hosts: Option<Vec<String>>,
    /// New retry policy (`Some(None)`: the cluster default).
    pub retry: Option<Option<RetryPolicy>>,
    /// New `pause_after_failures` (`Some(None)`: never).
    pub pause_after_failures: Option<Option<u32>>,
    /// New `stale_after` (`Some(None)`: never).
    pub stale_after_ms: Option<Option<i64>>,
    /// New secrets (replaces the whole map).
    pub secrets: Option<BTreeMap<String, String>>,
}

/// Filter for [`Store::list_jobs`](super::Store::list_jobs); `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// Only jobs of this plugin.
    pub plugin: Option<String>,
    /// Only paused (or only active) jobs.
    pub paused: Option<bool>,
    /// Only jobs owned by this instance.
    pub owner: Option<String>,
    /// Only jobs whose name or plugin contains this text, letter case aside (ASCII).
    pub search: Option<String>,
}

/// Keyset page over jobs ordered by name.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    /// At most this many jobs.
    pub limit: i64,
    /// Only jobs whose name sorts strictly after this one.
    pub after_name: Option<String>,
}

impl Default for JobPage {
    fn default() -> Self {
        Self {
            limit: 100,
            after_name: None,
        }
    }
}

/// One recorded tick of a job (a run, or a skipped/missed tick).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Run id (never reused).
    pub id: i64,
    /// Job id.
    pub job_id: String,
    /// The tick's scheduled instant; with `job_id` the tick's durable identity.
    pub scheduled_at_ms: i64,
    /// Outcome.
    pub status: RunStatus,
    /// Why it was skipped, missed or abandoned.
    pub reason: Option<RunReason>,
    /// Attempt number, from 1.
    pub attempt: i32,
    /// Run late, as a caught-up tick.
    pub catch_up: bool,
    /// Triggered by hand rather than by the schedule.
    pub manual: bool,
    /// Instance that ran it.
    pub instance_id: Option<String>,
    /// Ownership epoch under which it was recorded.
    pub epoch: i64,
    /// Digest of the plugin that ran.
    pub plugin_digest: Option<String>,
    /// When it started.
    pub started_at_ms: Option<i64>,
    /// When it finished (or was recorded, for skipped/missed ticks).
    pub finished_at_ms: Option<i64>,
    /// `finished_at_ms - started_at_ms`.
    pub duration_ms: Option<i64>,
    /// The plugin's `ok` string (bounded).
    pub result: Option<String>,
    /// The plugin's `err` string or the host's error (bounded).
    pub error: Option<String>,
    /// Log lines the plugin wrote (bounded).
    pub logs: Option<String>,
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// Job id.
    pub job_id: String,
    /// The tick's scheduled instant.
    pub scheduled_at_ms: i64,
    /// Instance that believes it owns the job.
    pub instance_id: String,
    /// Ownership epoch the instance holds.
    pub epoch: i64,
    /// Digest of the plugin about to run.
    pub plugin_digest: Option<String>,
    /// Attempt number, from 1.
    pub attempt: i32,
    /// Run late, as a caught-up tick.
    pub catch_up: bool,
    /// Triggered by hand.
    pub manual: bool,
}

/// Result of trying to start a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginRun {
    /// The tick is now recorded as `running` under this run id: run it.
    Started(i64),
    /// The tick already has a record (run elsewhere or earlier): do not run it.
    AlreadyRecorded,
    /// The caller no longer owns the job (owner or epoch changed): do not run it.
    Fenced,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishRun {
    /// Final status (not `running`).
    pub status: RunStatus,
    /// The plugin's `ok` string.
    pub result: Option<String>,
    /// The error text.
    pub error: Option<String>,
    /// Collected log lines.
    pub logs: Option<String>,
}

/// Result of recording the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Recorded.
    Ok,
    /// Not recorded: the job's epoch moved on (or the run is no longer `running`).
    Fenced,
}

/// Filter for [`Store::list_runs`](super::Store::list_runs); `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFilter {
    /// Only runs of this job.
    pub job_id: Option<String>,
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Only ticks scheduled at or after this instant.
    pub from_ms: Option<i64>,
    /// Only ticks scheduled strictly before this instant.
    pub to_ms: Option<i64>,
}

/// Position in a newest-first run listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCursor {
    /// `scheduled_at_ms` of the last run of the previous page.
    pub scheduled_at_ms: i64,
    /// `id` of the last run of the previous page.
    pub id: i64,
}

impl From<&Run> for RunCursor {
    fn from(run: &Run) -> Self {
        Self {
            scheduled_at_ms: run.scheduled_at_ms,
            id: run.id,
        }
    }
}

/// Keyset page over runs, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    /// At most this many runs.
    pub limit: i64,
    /// Only runs that sort strictly after this cursor (that is, older).
    pub before: Option<RunCursor>,
}

impl Default for RunPage {
    fn default() -> Self {
        Self {
            limit: 100,
            before: None,
        }
    }
}

/// A replica of the host as seen in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// Address other replicas and clients reach it at.
    pub address: String,
    /// wasmcron version it runs.
    pub version: String,
    /// When it (re)registered.
    pub started_at_ms: i64,
    /// Its last heartbeat.
    pub heartbeat_at_ms: i64,
    /// When it left gracefully, if it did.
    pub left_at_ms: Option<i64>,
}
