//! JSON shapes of the API's resources. Instants are RFC 3339 strings in UTC with milliseconds;
//! durations are strings such as "1h" or "250ms".

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::jobs::JobSpec;
use crate::schedule::{Schedule, format_duration};
use crate::store::{
    Job, MisfirePolicy, OverlapPolicy, PausedReason, RetryPolicy, Run, RunReason, RunStatus,
};

pub use crate::events::instant;

fn duration_ms(ms: i64) -> String {
    format_duration(std::time::Duration::from_millis(ms.max(0) as u64))
}

/// Whether a job's ticks fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Its ticks fire.
    Active,
    /// Paused: no tick fires until it is resumed.
    Paused,
}

impl JobStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Active => "active",
            JobStatus::Paused => "paused",
        }
    }
}

/// A job, with its next tick and its latest run.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Job)]
pub struct JobView {
    pub id: String,
    pub name: String,
    pub schedule: String,
    /// The schedule in words ("every 5 minutes").
    pub schedule_description: String,
    pub timezone: String,
    pub plugin: String,
    /// Any JSON, handed to every run.
    pub input: Value,
    pub config: std::collections::BTreeMap<String, String>,
    /// Config keys read from the secrets directory: key → secret name. Names only: a
    /// secret's value is never shown.
    pub secrets: std::collections::BTreeMap<String, String>,
    /// The jobs file (or `job apply` source) that declares the job; null: made through the
    /// API. A managed job's spec changes only there: `PATCH` (but for `paused`) and `DELETE`
    /// answer 409 `managed`.
    #[schema(required = true)]
    pub managed_by: Option<String>,
    pub overlap: OverlapPolicy,
    pub misfire: MisfirePolicy,
    /// A duration such as "1h".
    pub catchup_window: String,
    /// A duration such as "0s".
    pub jitter: String,
    /// A duration; null: the setting runs.default_timeout applies.
    #[schema(required = true)]
    pub timeout: Option<String>,
    /// Bytes; null: the setting runs.default_memory_limit applies.
    #[schema(required = true)]
    pub memory_limit: Option<i64>,
    pub allowed_hosts: Vec<String>,
    /// The job's own retry policy; null: the setting runs.default_retry applies.
    #[schema(required = true)]
    pub retry: Option<RetryView>,
    /// Consecutive failed ticks after which the job pauses itself; null: never.
    #[schema(required = true)]
    pub pause_after_failures: Option<u32>,
    /// How long without a success makes the job stale; null: never.
    #[schema(required = true)]
    pub stale_after: Option<String>,
    pub status: JobStatus,
    /// True when the job has a `stale_after` and no run of it succeeded for that long
    /// (since its creation, when none ever did).
    pub stale: bool,
    /// When its newest succeeded run finished; null when none did.
    #[schema(required = true, format = DateTime)]
    pub last_success_at: Option<String>,
    /// Why the host paused the job (`failures`: `pause_after_failures` consecutive ticks
    /// failed); null when it is not paused, or was paused by hand.
    #[schema(required = true)]
    pub paused_reason: Option<PausedReason>,
    /// The replica that runs the job; null while none has claimed it.
    #[schema(required = true)]
    pub owner: Option<String>,
    /// Bumped by every change.
    pub version: i64,
    /// Null while the job is paused.
    #[schema(required = true, format = DateTime)]
    pub next_tick_at: Option<String>,
    #[schema(required = true)]
    pub last_run: Option<RunView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Set when the job's plugin is not loaded (yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub warning: Option<String>,
}

impl JobView {
    pub fn new(job: Job, now_ms: i64, last_run: Option<Run>, last_success_ms: Option<i64>) -> Self {
        let stale = job
            .failure
            .stale_after_ms
            .is_some_and(|after| now_ms - last_success_ms.unwrap_or(job.created_at_ms) > after);
        let parsed = Schedule::parse(&job.schedule).ok();
        let next_tick_at = JobSpec::from_job(&job).ok().and_then(|spec| {
            if spec.paused {
                None
            } else {
                spec.timing
                    .next_tick_ms(now_ms.max(spec.anchor_ms))
                    .map(instant)
            }
        });
        JobView {
            schedule_description: parsed.map(|s| s.describe()).unwrap_or_default(),
            status: if job.paused {
                JobStatus::Paused
            } else {
                JobStatus::Active
            },
            catchup_window: duration_ms(job.catchup_window_ms),
            jitter: duration_ms(job.jitter_ms),
            timeout: job.timeout_ms.map(duration_ms),
            next_tick_at,
            last_run: last_run.map(RunView::from),
            created_at: instant(job.created_at_ms),
            updated_at: instant(job.updated_at_ms),
            id: job.id,
            name: job.name,
            schedule: job.schedule,
            timezone: job.timezone,
            plugin: job.plugin,
            input: job.input,
            config: job.config,
            secrets: job.secrets,
            managed_by: job.managed_by,
            overlap: job.overlap,
            misfire: job.misfire,
            memory_limit: job.memory_limit_bytes,
            allowed_hosts: job.allowed_hosts,
            retry: job.failure.retry.map(RetryView::from),
            pause_after_failures: job.failure.pause_after_failures,
            stale_after: job.failure.stale_after_ms.map(duration_ms),
            paused_reason: job.paused_reason,
            stale,
            last_success_at: last_success_ms.map(instant),
            owner: job.owner,
            version: job.version,
            warning: None,
        }
    }
}

/// A retry policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Retry)]
pub struct RetryView {
    /// Attempts of a tick in all, the first included.
    pub attempts: u32,
    /// Delay before the second attempt; each further delay doubles it.
    pub backoff: String,
    /// Longest delay.
    pub max_backoff: String,
}

impl From<RetryPolicy> for RetryView {
    fn from(policy: RetryPolicy) -> Self {
        RetryView {
            attempts: policy.attempts,
            backoff: duration_ms(policy.backoff_ms),
            max_backoff: duration_ms(policy.max_backoff_ms),
        }
    }
}

/// One recorded tick of a job: a run, or a tick skipped or missed.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Run)]
pub struct RunView {
    pub id: i64,
    pub job_id: String,
    /// The tick's instant.
    #[schema(format = DateTime)]
    pub scheduled_at: String,
    #[schema(required = true, format = DateTime)]
    pub started_at: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub finished_at: Option<String>,
    #[schema(required = true)]
    pub duration_ms: Option<i64>,
    pub status: RunStatus,
    #[schema(required = true)]
    pub reason: Option<RunReason>,
    /// What the plugin returned.
    #[schema(required = true)]
    pub result: Option<String>,
    #[schema(required = true)]
    pub error: Option<String>,
    /// The run's log lines.
    #[schema(required = true)]
    pub logs: Option<String>,
    /// The replica that ran it.
    #[schema(required = true)]
    pub instance_id: Option<String>,
    #[schema(required = true)]
    pub plugin_digest: Option<String>,
    pub attempt: i32,
    /// A missed tick run late.
    pub catch_up: bool,
    /// A tick asked for through the trigger operation.
    pub manual: bool,
}

impl From<Run> for RunView {
    fn from(run: Run) -> Self {
        RunView {
            id: run.id,
            job_id: run.job_id,
            scheduled_at: instant(run.scheduled_at_ms),
            started_at: run.started_at_ms.map(instant),
            finished_at: run.finished_at_ms.map(instant),
            duration_ms: run.duration_ms,
            status: run.status,
            reason: run.reason,
            result: run.result,
            error: run.error,
            logs: run.logs,
            instance_id: run.instance_id,
            plugin_digest: run.plugin_digest,
            attempt: run.attempt,
            catch_up: run.catch_up,
            manual: run.manual,
        }
    }
}

/// A page of items plus the cursor of the next page.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor of the next page; null on the last one.
    #[schema(required = true)]
    pub next: Option<String>,
}
