//! The job fields clients send (`POST /jobs`, `PATCH /jobs/{id}`) and their validation: every
//! rejection names the field and says what was wrong.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use crate::runtime::parse_allowed_hosts;
use crate::schedule::{MisfirePolicy, OverlapPolicy, Schedule, parse_duration, parse_timezone};
use crate::settings::parse_bytes;

/// Fields of a job as sent by a client. Unknown fields are rejected.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFields {
    pub name: Option<String>,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub plugin: Option<String>,
    pub input: Option<Value>,
    pub config: Option<BTreeMap<String, String>>,
    pub overlap: Option<String>,
    pub misfire: Option<String>,
    pub catchup_window: Option<String>,
    pub jitter: Option<String>,
    pub timeout: Option<String>,
    pub memory_limit: Option<Value>,
    pub allowed_hosts: Option<Vec<String>>,
    pub paused: Option<bool>,
}

/// Names and plugin names: letters, digits, `.`, `_`, `-`; 1 to 128 characters.
fn check_name(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 128 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to 128 characters long"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(ApiError::invalid(
            field,
            format!("{field} {value:?} contains {c:?}: use letters, digits, '.', '_' and '-'"),
        ));
    }
    Ok(())
}

fn duration(field: &str, value: &str, min: Duration) -> Result<Duration, ApiError> {
    let d = parse_duration(value).map_err(|e| ApiError::invalid(field, format!("{field}: {e}")))?;
    if d < min {
        return Err(ApiError::invalid(
            field,
            format!(
                "{field} must be at least {}",
                humantime::format_duration(min)
            ),
        ));
    }
    Ok(d)
}

impl JobFields {
    /// Validate every field that is present. `create` also requires name, schedule, plugin.
    pub fn validate(&self, create: bool) -> Result<(), ApiError> {
        if create {
            for (field, present) in [
                ("name", self.name.is_some()),
                ("schedule", self.schedule.is_some()),
                ("plugin", self.plugin.is_some()),
            ] {
                if !present {
                    return Err(ApiError::invalid(field, format!("{field} is required")));
                }
            }
        }
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(plugin) = &self.plugin {
            check_name("plugin", plugin)?;
        }
        if let Some(schedule) = &self.schedule {
            Schedule::parse(schedule).map_err(|e| ApiError::invalid("schedule", e.to_string()))?;
        }
        if let Some(tz) = &self.timezone {
            parse_timezone(tz).map_err(|e| ApiError::invalid("timezone", e.to_string()))?;
        }
        if let Some(o) = &self.overlap {
            o.parse::<OverlapPolicy>().map_err(|_| {
                ApiError::invalid(
                    "overlap",
                    format!("overlap must be skip, allow or queue, not {o:?}"),
                )
            })?;
        }
        if let Some(m) = &self.misfire {
            m.parse::<MisfirePolicy>().map_err(|_| {
                ApiError::invalid(
                    "misfire",
                    format!("misfire must be skip, run_once or run_all, not {m:?}"),
                )
            })?;
        }
        if let Some(w) = &self.catchup_window {
            duration("catchup_window", w, Duration::ZERO)?;
        }
        if let Some(j) = &self.jitter {
            let d = duration("jitter", j, Duration::ZERO)?;
            if d > Duration::from_secs(3600) {
                return Err(ApiError::invalid("jitter", "jitter must be at most 1h"));
            }
        }
        if let Some(t) = &self.timeout {
            let d = duration("timeout", t, Duration::from_millis(10))?;
            if d > Duration::from_secs(24 * 3600) {
                return Err(ApiError::invalid("timeout", "timeout must be at most 24h"));
            }
        }
        if let Some(m) = &self.memory_limit {
            parse_bytes(m)
                .map_err(|e| ApiError::invalid("memory_limit", format!("memory_limit: {e}")))?;
        }
        if let Some(hosts) = &self.allowed_hosts {
            parse_allowed_hosts(hosts)
                .map_err(|e| ApiError::invalid("allowed_hosts", e.to_string()))?;
        }
        if let Some(config) = &self.config
            && let Some(key) = config.keys().find(|k| k.is_empty() || k.len() > 256)
        {
            return Err(ApiError::invalid(
                "config",
                format!("config key {key:?} must be 1 to 256 characters"),
            ));
        }
        if let Some(input) = &self.input {
            let len = input.to_string().len();
            if len > 256 << 10 {
                return Err(ApiError::invalid(
                    "input",
                    format!("input is {len} bytes; the limit is 256 KiB"),
                ));
            }
        }
        Ok(())
    }
}

/// Parse a validated duration field.
pub fn millis(value: &str) -> i64 {
    parse_duration(value)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
