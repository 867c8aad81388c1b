//! The job fields clients write (`POST /jobs`, `PATCH /jobs/{id}`, the jobs file) and their
//! validation into the store's typed [`NewJob`] and [`JobPatch`]: every rejection names the
//! field and says what was wrong.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::FieldError;
use super::failure_fields::{failure_edit, present};
use super::secret_fields::check_secrets;
use crate::runtime::parse_allowed_hosts;
use crate::schedule::{MisfirePolicy, OverlapPolicy, Schedule, parse_duration, parse_timezone};
use crate::settings::parse_bytes;
use crate::store::{JobPatch, NewJob};

/// Largest `input`, as JSON text.
pub const INPUT_LIMIT_BYTES: usize = 256 << 10;

/// Fields of a job as a client writes them. Unknown fields are rejected.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, String>>,
    /// Config keys read from the secrets directory: key → secret name (a file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misfire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchup_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// Retry policy; `null` in an edit: the cluster default.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry: Option<Value>,
    /// Consecutive failed ticks after which the job pauses itself; `null` in an edit: never.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub pause_after_failures: Option<Value>,
    /// How long without a success makes the job stale; `null` in an edit: never.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub stale_after: Option<Value>,
}

/// Names and plugin names: letters, digits, `.`, `_`, `-`; 1 to 128 characters.
pub fn check_name(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() || value.len() > 128 {
        return Err(FieldError::new(
            field,
            format!("{field} must be 1 to 128 characters long"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(FieldError::new(
            field,
            format!("{field} {value:?} contains {c:?}: use letters, digits, '.', '_' and '-'"),
        ));
    }
    Ok(())
}

/// A duration field of at least `min` and at most `max` (spelled `max_text` in the message),
/// in milliseconds.
fn duration_ms(
    field: &str,
    value: &str,
    min: Duration,
    (max, max_text): (Duration, &str),
) -> Result<i64, FieldError> {
    let d = parse_duration(value).map_err(|e| FieldError::new(field, format!("{field}: {e}")))?;
    if d < min {
        return Err(FieldError::new(
            field,
            format!(
                "{field} must be at least {}",
                humantime::format_duration(min)
            ),
        ));
    }
    if d > max {
        return Err(FieldError::new(
            field,
            format!("{field} must be at most {max_text}"),
        ));
    }
    Ok(d.as_millis() as i64)
}

/// No upper bound for a duration field.
const UNBOUNDED: (Duration, &str) = (Duration::MAX, "");

impl JobFields {
    /// A new job from these fields: `name`, `schedule` and `plugin` are required, the others
    /// take their defaults.
    pub fn new_job(&self) -> Result<NewJob, FieldError> {
        let required = |field: &str, value: &Option<String>| {
            value
                .clone()
                .ok_or_else(|| FieldError::new(field, format!("{field} is required")))
        };
        let name = required("name", &self.name)?;
        let schedule = required("schedule", &self.schedule)?;
        let plugin = required("plugin", &self.plugin)?;
        let patch = self.patch()?;
        let mut job = NewJob::new(name, schedule, plugin);
        if let Some(v) = patch.timezone {
            job.timezone = v;
        }
        if let Some(v) = patch.input {
            job.input = v;
        }
        if let Some(v) = patch.config {
            job.config = v;
        }
        if let Some(v) = patch.secrets {
            job.secrets = v;
        }
        if let Some(v) = patch.paused {
            job.paused = v;
        }
        if let Some(v) = patch.overlap {
            job.overlap = v;
        }
        if let Some(v) = patch.misfire {
            job.misfire = v;
        }
        if let Some(v) = patch.catchup_window_ms {
            job.catchup_window_ms = v;
        }
        if let Some(v) = patch.jitter_ms {
            job.jitter_ms = v;
        }
        if let Some(v) = patch.timeout_ms {
            job.timeout_ms = v;
        }
        if let Some(v) = patch.memory_limit_bytes {
            job.memory_limit_bytes = v;
        }
        if let Some(v) = patch.allowed_hosts {
            job.allowed_hosts = v;
        }
        if let Some(v) = patch.retry {
            job.failure.retry = v;
        }
        if let Some(v) = patch.pause_after_failures {
            job.failure.pause_after_failures = v;
        }
        if let Some(v) = patch.stale_after_ms {
            job.failure.stale_after_ms = v;
        }
        Ok(job)
    }

    /// An edit of the fields that are present; each is validated.
    pub fn patch(&self) -> Result<JobPatch, FieldError> {
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(plugin) = &self.plugin {
            check_name("plugin", plugin)?;
        }
        if let Some(schedule) = &self.schedule {
            Schedule::parse(schedule).map_err(|e| FieldError::new("schedule", e.to_string()))?;
        }
        if let Some(tz) = &self.timezone {
            parse_timezone(tz).map_err(|e| FieldError::new("timezone", e.to_string()))?;
        }
        let overlap = self
            .overlap
            .as_deref()
            .map(|o| {
                o.parse::<OverlapPolicy>().map_err(|_| {
                    FieldError::new(
                        "overlap",
                        format!("overlap must be skip, allow or queue, not {o:?}"),
                    )
                })
            })
            .transpose()?;
        let misfire = self
            .misfire
            .as_deref()
            .map(|m| {
                m.parse::<MisfirePolicy>().map_err(|_| {
                    FieldError::new(
                        "misfire",
                        format!("misfire must be skip, run_once or run_all, not {m:?}"),
                    )
                })
            })
            .transpose()?;
        let catchup_window_ms = self
            .catchup_window
            .as_deref()
            .map(|w| duration_ms("catchup_window", w, Duration::ZERO, UNBOUNDED))
            .transpose()?;
        let jitter_ms = self
            .jitter
            .as_deref()
            .map(|j| {
                duration_ms(
                    "jitter",
                    j,
                    Duration::ZERO,
                    (Duration::from_secs(3600), "1h"),
                )
            })
            .transpose()?;
        let timeout_ms = self
            .timeout
            .as_deref()
            .map(|t| {
                duration_ms(
                    "timeout",
                    t,
                    Duration::from_millis(10),
                    (Duration::from_secs(24 * 3600), "24h"),
                )
            })
            .transpose()?;
        let memory_limit_bytes = self
            .memory_limit
            .as_ref()
            .map(|m| {
                parse_bytes(m)
                    .map(|b| b as i64)
                    .map_err(|e| FieldError::new("memory_limit", format!("memory_limit: {e}")))
            })
            .transpose()?;
        if let Some(hosts) = &self.allowed_hosts {
            parse_allowed_hosts(hosts)
                .map_err(|e| FieldError::new("allowed_hosts", e.to_string()))?;
        }
        if let Some(config) = &self.config
            && let Some(key) = config.keys().find(|k| k.is_empty() || k.len() > 256)
        {
            return Err(FieldError::new(
                "config",
                format!("config key {key:?} must be 1 to 256 characters"),
            ));
        }
        if let Some(secrets) = &self.secrets {
            check_secrets(secrets, self.config.as_ref())?;
        }
        if let Some(input) = &self.input {
            let len = input.to_string().len();
            if len > INPUT_LIMIT_BYTES {
                return Err(FieldError::new(
                    "input",
                    format!("input is {len} bytes; the limit is 256 KiB"),
                ));
            }
        }
        let failure = failure_edit(
            self.retry.as_ref(),
            self.pause_after_failures.as_ref(),
            self.stale_after.as_ref(),
        )?;
        Ok(JobPatch {
            name: self.name.clone(),
            schedule: self.schedule.clone(),
            timezone: self.timezone.clone(),
            plugin: self.plugin.clone(),
            input: self.input.clone(),
            config: self.config.clone(),
            paused: self.paused,
            overlap,
            misfire,
            catchup_window_ms,
            jitter_ms,
            timeout_ms: timeout_ms.map(Some),
            memory_limit_bytes: memory_limit_bytes.map(Some),
            allowed_hosts: self.allowed_hosts.clone(),
            retry: failure.retry,
            pause_after_failures: failure.pause_after_failures,
            stale_after_ms: failure.stale_after_ms,
            secrets: self.secrets.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: serde_json::Value) -> JobFields {
        serde_json::from_value(json).expect("job fields")
    }

    #[test]
    fn a_new_job_takes_defaults_and_typed_values() {
        let job = fields(serde_json::json!({
            "name": "nightly", "schedule": "@daily", "plugin": "hello",
            "overlap": "queue", "misfire": "run_all", "jitter": "2s", "timeout": "1m",
            "memory_limit": "1MiB"
        }))
        .new_job()
        .unwrap();
        assert_eq!(job.overlap, OverlapPolicy::Queue);
        assert_eq!(job.misfire, MisfirePolicy::RunAll);
        assert_eq!(job.jitter_ms, 2_000);
        assert_eq!(job.timeout_ms, Some(60_000));
        assert_eq!(job.memory_limit_bytes, Some(1 << 20));
        assert_eq!(job.timezone, "UTC");
        assert_eq!(job.catchup_window_ms, 3_600_000);
    }

    #[test]
    fn every_rejection_names_its_field() {
        let cases = [
            (
                serde_json::json!({"schedule": "@daily", "plugin": "p"}),
                "name",
            ),
            (
                serde_json::json!({"name": "a b", "schedule": "@daily", "plugin": "p"}),
                "name",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "61 * * * *", "plugin": "p"}),
                "schedule",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "overlap": "x"}),
                "overlap",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "misfire": "x"}),
                "misfire",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "jitter": "2h"}),
                "jitter",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "timeout": "1ms"}),
                "timeout",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "timezone": "Mars/Base"}),
                "timezone",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "memory_limit": "1KiB"}),
                "memory_limit",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "config": {"": "v"}}),
                "config",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p", "secrets": {"K": "../k"}}),
                "secrets.K",
            ),
            (
                serde_json::json!({"name": "a", "schedule": "@daily", "plugin": "p",
                                   "config": {"K": "v"}, "secrets": {"K": "k"}}),
                "secrets.K",
            ),
        ];
        for (json, field) in cases {
            let err = fields(json.clone()).new_job().unwrap_err();
            assert_eq!(err.field, field, "{json}: {err}");
        }
    }

    #[test]
    fn a_patch_holds_only_what_was_sent() {
        let patch = fields(serde_json::json!({"jitter": "1s"})).patch().unwrap();
        assert_eq!(
            patch,
            JobPatch {
                jitter_ms: Some(1_000),
                ..JobPatch::default()
            }
        );
    }
}
