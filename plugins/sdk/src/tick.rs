//! The tick a job runs for.

use crate::bindings::wasmcron::plugin::types;

/// One scheduled tick of one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tick {
    /// The job's stable id.
    pub job_id: String,
    /// The job's name.
    pub job_name: String,
    /// The tick's scheduled instant, Unix epoch milliseconds (UTC). With `job_id` it
    /// identifies the tick: the same on every attempt and every replica, so it makes a good
    /// idempotency key.
    pub scheduled_at: i64,
    /// 1 for the first attempt of this tick, 2 and up for retries.
    pub attempt: u32,
    /// True when the tick runs late, replayed by the catch-up (misfire) policy.
    pub catch_up: bool,
    /// The replica running it.
    pub instance_id: String,
    /// The job's input as JSON text (`"null"` when the job has none); the job function
    /// receives it decoded.
    pub input: String,
}

impl From<types::Tick> for Tick {
    fn from(tick: types::Tick) -> Self {
        Tick {
            job_id: tick.job_id,
            job_name: tick.job_name,
            scheduled_at: tick.scheduled_at,
            attempt: tick.attempt,
            catch_up: tick.catch_up,
            instance_id: tick.instance_id,
            input: tick.input,
        }
    }
}
