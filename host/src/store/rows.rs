//! Row shapes as both backends return them, and their conversion into the model types.
//!
//! JSON-bearing columns are TEXT on both backends; they are decoded here.

use super::error::StoreError;
use super::model::{Instance, Job, MisfirePolicy, OverlapPolicy, Run, RunReason, RunStatus};

/// A `jobs` row, in the column order of `job_columns!()`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct JobRow {
    id: String,
    name: String,
    schedule: String,
    timezone: String,
    plugin: String,
    input: String,
    config: String,
    paused: bool,
    overlap: String,
    misfire: String,
    catchup_window_ms: i64,
    jitter_ms: i64,
    timeout_ms: Option<i64>,
    memory_limit_bytes: Option<i64>,
    allowed_hosts: String,
    owner: Option<String>,
    epoch: i64,
    version: i64,
    anchor_ms: i64,
    created_at_ms: i64,
    updated_at_ms: i64,
}

fn corrupt_json(what: &'static str, job: &str, error: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: format!("job {job}: {error}"),
    }
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Self, StoreError> {
        let input =
            serde_json::from_str(&row.input).map_err(|e| corrupt_json("job input", &row.id, e))?;
        let config = serde_json::from_str(&row.config)
            .map_err(|e| corrupt_json("job config", &row.id, e))?;
        let allowed_hosts = serde_json::from_str(&row.allowed_hosts)
            .map_err(|e| corrupt_json("job allowed_hosts", &row.id, e))?;
        let overlap: OverlapPolicy = row.overlap.parse().map_err(|e| StoreError::Corrupt {
            what: "job overlap",
            detail: format!("job {}: {e}", row.id),
        })?;
        let misfire: MisfirePolicy = row.misfire.parse().map_err(|e| StoreError::Corrupt {
            what: "job misfire",
            detail: format!("job {}: {e}", row.id),
        })?;
        Ok(Job {
            id: row.id,
            name: row.name,
            schedule: row.schedule,
            timezone: row.timezone,
            plugin: row.plugin,
            input,
            config,
            paused: row.paused,
            overlap,
            misfire,
            catchup_window_ms: row.catchup_window_ms,
            jitter_ms: row.jitter_ms,
            timeout_ms: row.timeout_ms,
            memory_limit_bytes: row.memory_limit_bytes,
            allowed_hosts,
            owner: row.owner,
            epoch: row.epoch,
            version: row.version,
            anchor_ms: row.anchor_ms,
            created_at_ms: row.created_at_ms,
            updated_at_ms: row.updated_at_ms,
        })
    }
}

/// Converts a batch of job rows.
pub(crate) fn jobs_from_rows(rows: Vec<JobRow>) -> Result<Vec<Job>, StoreError> {
    rows.into_iter().map(Job::try_from).collect()
}

/// A `runs` row, in the column order of `run_columns!()`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RunRow {
    id: i64,
    job_id: String,
    scheduled_at_ms: i64,
    status: String,
    reason: Option<String>,
    attempt: i32,
    catch_up: bool,
    manual: bool,
    instance_id: Option<String>,
    epoch: i64,
    plugin_digest: Option<String>,
    started_at_ms: Option<i64>,
    finished_at_ms: Option<i64>,
    duration_ms: Option<i64>,
    result: Option<String>,
    error: Option<String>,
    logs: Option<String>,
}

impl TryFrom<RunRow> for Run {
    type Error = StoreError;

    fn try_from(row: RunRow) -> Result<Self, StoreError> {
        let status: RunStatus = row.status.parse().map_err(|e| StoreError::Corrupt {
            what: "run status",
            detail: format!("run {}: {e}", row.id),
        })?;
        let reason: Option<RunReason> =
            row.reason
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| StoreError::Corrupt {
                    what: "run reason",
                    detail: format!("run {}: {e}", row.id),
                })?;
        Ok(Run {
            id: row.id,
            job_id: row.job_id,
            scheduled_at_ms: row.scheduled_at_ms,
            status,
            reason,
            attempt: row.attempt,
            catch_up: row.catch_up,
            manual: row.manual,
            instance_id: row.instance_id,
            epoch: row.epoch,
            plugin_digest: row.plugin_digest,
            started_at_ms: row.started_at_ms,
            finished_at_ms: row.finished_at_ms,
            duration_ms: row.duration_ms,
            result: row.result,
            error: row.error,
            logs: row.logs,
        })
    }
}

/// Converts a batch of run rows.
pub(crate) fn runs_from_rows(rows: Vec<RunRow>) -> Result<Vec<Run>, StoreError> {
    rows.into_iter().map(Run::try_from).collect()
}

/// An `instances` row, in the column order of `instance_columns!()`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct InstanceRow {
    id: String,
    address: String,
    version: String,
    started_at_ms: i64,
    heartbeat_at_ms: i64,
    left_at_ms: Option<i64>,
}

impl From<InstanceRow> for Instance {
    fn from(row: InstanceRow) -> Self {
        Instance {
            id: row.id,
            address: row.address,
            version: row.version,
            started_at_ms: row.started_at_ms,
            heartbeat_at_ms: row.heartbeat_at_ms,
            left_at_ms: row.left_at_ms,
        }
    }
}

/// Serializes a value that is always representable as JSON (maps of strings, lists, values).
pub(crate) fn to_json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}
