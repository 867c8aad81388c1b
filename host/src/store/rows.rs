//! Row shapes as every engine returns them (the same column names and types), the column
//! lists that select them, and their conversion into the model types.
//!
//! JSON-bearing columns are TEXT on every engine; they are decoded here.

use super::error::StoreError;
use super::events::{PendingTrigger, StoredEvent};
use super::model::{
    Instance, Job, MisfirePolicy, OverlapPolicy, PausedReason, Run, RunReason, RunStatus,
};

/// Columns of `jobs`, in the order [`JobRow`] declares them.
macro_rules! job_columns {
    () => {
        "id, name, schedule, timezone, plugin, input, config, paused, overlap, misfire, \
         catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, allowed_hosts, owner, \
         epoch, version, anchor_ms, created_at_ms, updated_at_ms, failure, paused_reason, secrets, \
         managed_by"
    };
}

/// Columns of `jobs` as `j.…`, then the trigger columns of `manual_triggers t`, as
/// [`TriggerRow`] decodes them.
macro_rules! trigger_columns {
    () => {
        "t.id AS trigger_id, t.scheduled_at_ms AS trigger_at_ms, \
         j.id, j.name, j.schedule, j.timezone, j.plugin, j.input, j.config, j.paused, \
         j.overlap, j.misfire, j.catchup_window_ms, j.jitter_ms, j.timeout_ms, \
         j.memory_limit_bytes, j.allowed_hosts, j.owner, j.epoch, j.version, j.anchor_ms, \
         j.created_at_ms, j.updated_at_ms, j.failure, j.paused_reason, j.secrets, \
         j.managed_by"
    };
}

/// Columns of `runs`, in the order [`RunRow`] declares them.
macro_rules! run_columns {
    () => {
        "id, job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, instance_id, \
         epoch, plugin_digest, started_at_ms, finished_at_ms, duration_ms, result, error, logs"
    };
}

/// Columns of `instances`, in the order [`InstanceRow`] declares them.
macro_rules! instance_columns {
    () => {
        "id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms"
    };
}

/// Columns of `events`, as [`EventRow`] decodes them.
macro_rules! event_columns {
    () => {
        "id, at_ms, kind, payload"
    };
}

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
    failure: String,
    paused_reason: Option<String>,
    secrets: String,
    managed_by: Option<String>,
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
        let failure = serde_json::from_str(&row.failure)
            .map_err(|e| corrupt_json("job failure", &row.id, e))?;
        let secrets = serde_json::from_str(&row.secrets)
            .map_err(|e| corrupt_json("job secrets", &row.id, e))?;
        let paused_reason: Option<PausedReason> = row
            .paused_reason
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| StoreError::Corrupt {
                what: "job paused_reason",
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
            paused_reason,
            overlap,
            misfire,
            catchup_window_ms: row.catchup_window_ms,
            jitter_ms: row.jitter_ms,
            timeout_ms: row.timeout_ms,
            memory_limit_bytes: row.memory_limit_bytes,
            allowed_hosts,
            failure,
            secrets,
            managed_by: row.managed_by,
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

/// A `manual_triggers` row joined with its job, as `trigger_columns!()` selects it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TriggerRow {
    trigger_id: i64,
    trigger_at_ms: i64,
    #[sqlx(flatten)]
    job: JobRow,
}

impl TryFrom<TriggerRow> for PendingTrigger {
    type Error = StoreError;

    fn try_from(row: TriggerRow) -> Result<Self, StoreError> {
        Ok(PendingTrigger {
            id: row.trigger_id,
            scheduled_at_ms: row.trigger_at_ms,
            job: Job::try_from(row.job)?,
        })
    }
}

/// Converts a batch of trigger rows.
pub(crate) fn triggers_from_rows(rows: Vec<TriggerRow>) -> Result<Vec<PendingTrigger>, StoreError> {
    rows.into_iter().map(PendingTrigger::try_from).collect()
}

/// An `events` row, as `event_columns!()` selects it; the payload is JSON text.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    at_ms: i64,
    kind: String,
    payload: String,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let payload = serde_json::from_str(&row.payload).map_err(|e| StoreError::Corrupt {
            what: "event",
            detail: format!("{}: {e}", row.id),
        })?;
        Ok(StoredEvent {
            id: row.id,
            at_ms: row.at_ms,
            kind: row.kind,
            payload,
        })
    }
}

/// Converts a batch of event rows.
pub(crate) fn events_from_rows(rows: Vec<EventRow>) -> Result<Vec<StoredEvent>, StoreError> {
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// Converts a batch of instance rows.
pub(crate) fn instances_from_rows(rows: Vec<InstanceRow>) -> Vec<Instance> {
    rows.into_iter().map(Instance::from).collect()
}

/// Serializes a value that is always representable as JSON (maps of strings, lists, values).
pub(crate) fn to_json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}
