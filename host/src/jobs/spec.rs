//! What the scheduler knows of a job it owns: the stored job, parsed and validated once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::HostPattern;
use crate::schedule::{JobTiming, MisfirePolicy, OverlapPolicy};
use crate::store::FailurePolicy;

/// A job as the scheduler runs it.
#[derive(Clone, Debug)]
pub struct JobSpec {
    pub id: String,
    pub name: String,
    pub plugin: String,
    /// JSON text handed to the plugin as the tick's input.
    pub input: String,
    pub config: Arc<HashMap<String, String>>,
    /// Config keys whose value is a secret: key → secret name (a file of the secrets
    /// directory, read at each `config-get`).
    pub secrets: Arc<BTreeMap<String, String>>,
    pub timing: JobTiming,
    pub overlap: OverlapPolicy,
    pub misfire: MisfirePolicy,
    pub catchup_window: Duration,
    pub timeout: Option<Duration>,
    pub memory_limit: Option<u64>,
    pub allowed_hosts: Vec<HostPattern>,
    /// Retries, pausing after failures, staleness.
    pub failure: FailurePolicy,
    pub paused: bool,
    /// Bumped on every edit.
    pub version: i64,
    /// Ownership epoch this replica holds the job under (fencing token).
    pub epoch: i64,
    /// Ticks are due only strictly after this instant (creation, resume, schedule edit).
    pub anchor_ms: i64,
}

impl JobSpec {
    /// Parse a stored job. A stored job was validated when written; an error here means the
    /// row was changed behind the API's back (or by a newer version), and says which field.
    pub fn from_job(job: &crate::store::Job) -> Result<JobSpec, String> {
        use crate::schedule::{Schedule, parse_timezone};
        let schedule = Schedule::parse(&job.schedule).map_err(|e| format!("schedule: {e}"))?;
        let tz = parse_timezone(&job.timezone).map_err(|e| format!("timezone: {e}"))?;
        let allowed_hosts = crate::runtime::parse_allowed_hosts(&job.allowed_hosts)
            .map_err(|e| format!("allowed_hosts: {e}"))?;
        let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
        Ok(JobSpec {
            id: job.id.clone(),
            name: job.name.clone(),
            plugin: job.plugin.clone(),
            input: job.input.to_string(),
            config: Arc::new(
                job.config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            secrets: Arc::new(job.secrets.clone()),
            timing: JobTiming::new(schedule, tz, ms(job.jitter_ms)),
            overlap: job.overlap,
            misfire: job.misfire,
            catchup_window: ms(job.catchup_window_ms),
            timeout: job.timeout_ms.map(ms),
            memory_limit: job.memory_limit_bytes.map(|b| b.max(0) as u64),
            allowed_hosts,
            failure: job.failure,
            paused: job.paused,
            version: job.version,
            epoch: job.epoch,
            anchor_ms: job.anchor_ms,
        })
    }
}
