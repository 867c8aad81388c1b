//! A stored job written back in the fields clients write (`wasmcron job export`, the jobs
//! file format): the fields at their default left out, durations as text. Reading the
//! fields again gives the same job ([`JobFields::new_job`]), so an export applied changes
//! nothing.

use std::time::Duration;

use serde_json::{Value, json};

use super::fields::JobFields;
use crate::schedule::format_duration;
use crate::store::{Job, NewJob};

fn duration(ms: i64) -> String {
    format_duration(Duration::from_millis(ms.max(0) as u64))
}

impl JobFields {
    /// `job`'s spec as a client writes it: name, schedule and plugin, and every other field
    /// that is not at its default. Its pause state is kept (a created job starts so).
    pub fn of_job(job: &Job) -> JobFields {
        let default = NewJob::new(&job.name, &job.schedule, &job.plugin);
        let differs = |current: bool| current.then_some(());
        let failure = &job.failure;
        JobFields {
            name: Some(job.name.clone()),
            schedule: Some(job.schedule.clone()),
            timezone: differs(job.timezone != default.timezone).map(|_| job.timezone.clone()),
            plugin: Some(job.plugin.clone()),
            input: differs(job.input != default.input).map(|_| job.input.clone()),
            config: differs(!job.config.is_empty()).map(|_| job.config.clone()),
            secrets: differs(!job.secrets.is_empty()).map(|_| job.secrets.clone()),
            overlap: differs(job.overlap != default.overlap)
                .map(|_| job.overlap.as_str().to_owned()),
            misfire: differs(job.misfire != default.misfire)
                .map(|_| job.misfire.as_str().to_owned()),
            catchup_window: differs(job.catchup_window_ms != default.catchup_window_ms)
                .map(|_| duration(job.catchup_window_ms)),
            jitter: differs(job.jitter_ms != 0).map(|_| duration(job.jitter_ms)),
            timeout: job.timeout_ms.map(duration),
            memory_limit: job.memory_limit_bytes.map(|b| json!(b)),
            allowed_hosts: differs(!job.allowed_hosts.is_empty())
                .map(|_| job.allowed_hosts.clone()),
            paused: differs(job.paused).map(|_| true),
            retry: failure.retry.map(|r| {
                json!({
                    "attempts": r.attempts,
                    "backoff": duration(r.backoff_ms),
                    "max_backoff": duration(r.max_backoff_ms),
                })
            }),
            pause_after_failures: failure.pause_after_failures.map(|n| json!(n)),
            stale_after: failure.stale_after_ms.map(|ms| Value::from(duration(ms))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::schedule::{MisfirePolicy, OverlapPolicy};
    use crate::store::{FailurePolicy, RetryPolicy};

    fn stored(new: &NewJob) -> Job {
        let mut job: Job = serde_json::from_value(json!({
            "id": "j1", "name": "x", "schedule": "@every 1m", "timezone": "UTC",
            "plugin": "noop", "input": null, "config": {}, "secrets": {}, "paused": false,
            "paused_reason": null, "overlap": "skip", "misfire": "run_once",
            "catchup_window_ms": 0, "jitter_ms": 0, "timeout_ms": null,
            "memory_limit_bytes": null, "allowed_hosts": [], "failure": {},
            "owner": null, "epoch": 0, "version": 1, "anchor_ms": 0,
            "created_at_ms": 0, "updated_at_ms": 0
        }))
        .unwrap();
        job.name = new.name.clone();
        job.schedule = new.schedule.clone();
        job.timezone = new.timezone.clone();
        job.plugin = new.plugin.clone();
        job.input = new.input.clone();
        job.config = new.config.clone();
        job.secrets = new.secrets.clone();
        job.paused = new.paused;
        job.overlap = new.overlap;
        job.misfire = new.misfire;
        job.catchup_window_ms = new.catchup_window_ms;
        job.jitter_ms = new.jitter_ms;
        job.timeout_ms = new.timeout_ms;
        job.memory_limit_bytes = new.memory_limit_bytes;
        job.allowed_hosts = new.allowed_hosts.clone();
        job.failure = new.failure;
        job
    }

    #[test]
    fn a_default_job_exports_its_three_fields() {
        let fields = JobFields::of_job(&stored(&NewJob::new("a", "@hourly", "hello")));
        assert_eq!(
            serde_json::to_value(&fields).unwrap(),
            json!({"name": "a", "schedule": "@hourly", "plugin": "hello"})
        );
    }

    #[test]
    fn every_field_survives_an_export_read_back() {
        let mut new = NewJob::new("b", "*/5 * * * * *", "fetch");
        new.timezone = "Europe/Paris".into();
        new.input = json!({"url": "https://example.com", "n": [1, 2]});
        new.config = BTreeMap::from([("k".into(), "v".into())]);
        new.secrets = BTreeMap::from([("TOKEN".into(), "api-token".into())]);
        new.paused = true;
        new.overlap = OverlapPolicy::Queue;
        new.misfire = MisfirePolicy::RunAll;
        new.catchup_window_ms = 90_000;
        new.jitter_ms = 1_500;
        new.timeout_ms = Some(30_000);
        new.memory_limit_bytes = Some(64 << 20);
        new.allowed_hosts = vec!["example.com".into()];
        new.failure = FailurePolicy {
            retry: Some(RetryPolicy {
                attempts: 4,
                backoff_ms: 2_000,
                max_backoff_ms: 60_000,
            }),
            pause_after_failures: Some(5),
            stale_after_ms: Some(7_200_000),
        };
        let fields = JobFields::of_job(&stored(&new));
        // Through the file format and back.
        let text = serde_norway::to_string(&vec![fields]).unwrap();
        let read: Vec<JobFields> = serde_norway::from_str(&text).unwrap();
        assert_eq!(read[0].new_job().unwrap(), new, "{text}");
    }
}
