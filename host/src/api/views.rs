//! JSON shapes of the API's resources. Instants are RFC 3339 strings in UTC with milliseconds;
//! durations are strings such as "1h" or "250ms".

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schedule::{MisfirePolicy, OverlapPolicy, Schedule, format_duration};
use crate::scheduler::JobSpec;
use crate::store::{Job, Run, RunStatus};

/// An instant as RFC 3339 (UTC, milliseconds).
pub fn instant(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn duration_ms(ms: i64) -> String {
    format_duration(std::time::Duration::from_millis(ms.max(0) as u64))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub name: String,
    pub schedule: String,
    pub schedule_description: String,
    pub timezone: String,
    pub plugin: String,
    pub input: Value,
    pub config: std::collections::BTreeMap<String, String>,
    pub overlap: OverlapPolicy,
    pub misfire: MisfirePolicy,
    pub catchup_window: String,
    pub jitter: String,
    pub timeout: Option<String>,
    pub memory_limit: Option<i64>,
    pub allowed_hosts: Vec<String>,
    pub status: String,
    pub owner: Option<String>,
    pub version: i64,
    pub next_tick_at: Option<String>,
    pub last_run: Option<RunView>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl JobView {
    pub fn new(job: Job, now_ms: i64, last_run: Option<Run>) -> Self {
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
            status: if job.paused { "paused" } else { "active" }.into(),
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
            overlap: job.overlap.parse().unwrap_or_default(),
            misfire: job.misfire.parse().unwrap_or_default(),
            memory_limit: job.memory_limit_bytes,
            allowed_hosts: job.allowed_hosts,
            owner: job.owner,
            version: job.version,
            warning: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub job_id: String,
    pub scheduled_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub status: RunStatus,
    pub reason: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub logs: Option<String>,
    pub instance_id: Option<String>,
    pub plugin_digest: Option<String>,
    pub attempt: i32,
    pub catch_up: bool,
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
#[derive(Debug, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}
