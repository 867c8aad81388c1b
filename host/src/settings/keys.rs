//! The cluster settings: typed, validated keys. Values are stored as JSON in the settings
//! table; anything unknown or ill-typed is rejected with a message that names the key.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::retry::{parse_retry, retry_json};
use super::webhooks::{Webhook, parse_webhooks};
use crate::runtime::{HostPattern, MAX_MEMORY_BYTES, parse_allowed_hosts};
use crate::store::RetryPolicy;

/// A rejected setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingError {
    #[error(
        "unknown setting {0:?}: known keys are runs.retention, runs.keep_succeeded, runs.keep_failed, runs.default_timeout, runs.default_retry, runs.default_memory_limit, scheduler.max_concurrent_runs, scheduler.paused, plugins.default_allowed_hosts, metrics.token, alerts.webhooks and config.<key>"
    )]
    Unknown(String),
    #[error("invalid value for setting {key:?}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Every setting with its effective value.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub runs_retention: Duration,
    /// Succeeded runs kept per job, the newest (`None`: all within the retention).
    pub keep_succeeded: Option<u32>,
    /// Failed and timed-out runs kept per job, the newest (`None`: all within the retention).
    pub keep_failed: Option<u32>,
    pub default_timeout: Duration,
    pub default_memory_limit: u64,
    /// Retry policy of the jobs without their own (`None`: no retry).
    pub default_retry: Option<RetryPolicy>,
    pub max_concurrent_runs: usize,
    pub scheduler_paused: bool,
    pub default_allowed_hosts: Vec<HostPattern>,
    pub metrics_token: Option<String>,
    /// Where alerts are sent (`alerts.webhooks`).
    pub webhooks: Vec<Webhook>,
    /// `config.<key>` values, keyed without the prefix.
    pub config: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runs_retention: Duration::from_secs(7 * 24 * 3600),
            keep_succeeded: None,
            keep_failed: None,
            default_timeout: Duration::from_secs(60),
            default_memory_limit: crate::runtime::DEFAULT_MEMORY_LIMIT,
            default_retry: None,
            max_concurrent_runs: 256,
            scheduler_paused: false,
            default_allowed_hosts: Vec::new(),
            metrics_token: None,
            webhooks: Vec::new(),
            config: BTreeMap::new(),
        }
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> SettingError {
    SettingError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
    }
}

fn duration(key: &str, value: &Value) -> Result<Duration, SettingError> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(key, "expected a duration string such as \"30s\" or \"7d\""))?;
    let d = humantime::parse_duration(text)
        .map_err(|e| invalid(key, format!("{text:?} is not a duration: {e}")))?;
    if d.is_zero() {
        return Err(invalid(key, "must be greater than zero"));
    }
    Ok(d)
}

/// The most runs of one kind a `runs.keep_*` setting keeps per job.
pub const MAX_KEEP_RUNS: u64 = 1_000_000;

/// A `runs.keep_*` setting: a whole number of runs from 1, or `null` for no limit.
fn keep(key: &str, value: &Value) -> Result<Option<u32>, SettingError> {
    if value.is_null() {
        return Ok(None);
    }
    value
        .as_u64()
        .filter(|n| (1..=MAX_KEEP_RUNS).contains(n))
        .map(|n| Some(n as u32))
        .ok_or_else(|| {
            invalid(
                key,
                format!("expected a whole number of runs from 1 to {MAX_KEEP_RUNS}, or null for no limit, not {value}"),
            )
        })
}

/// Parse a memory size: a number of bytes, or a string like "64MiB", "1GiB", "512KiB".
pub fn parse_bytes(value: &Value) -> Result<u64, String> {
    let n = match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or("expected a positive whole number of bytes")?,
        Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (digits, unit) = s.split_at(split);
            let base: u64 = digits
                .parse()
                .map_err(|_| format!("{s:?} is not a size such as \"64MiB\""))?;
            let mult: u64 = match unit.trim() {
                "" | "B" => 1,
                "KiB" => 1 << 10,
                "MiB" => 1 << 20,
                "GiB" => 1 << 30,
                other => {
                    return Err(format!(
                        "unknown size unit {other:?} (use B, KiB, MiB or GiB)"
                    ));
                }
            };
            base.checked_mul(mult).ok_or("size too large")?
        }
        _ => return Err("expected a number of bytes or a string such as \"64MiB\"".into()),
    };
    if n < (1 << 16) {
        return Err("must be at least 64KiB (one WebAssembly page)".into());
    }
    if n > MAX_MEMORY_BYTES {
        return Err(format!("must be at most {} MiB", MAX_MEMORY_BYTES >> 20));
    }
    Ok(n)
}

impl Settings {
    /// Check one setting, as given to `PUT /api/v1/settings/{key}`.
    pub fn validate(key: &str, value: &Value) -> Result<(), SettingError> {
        Settings::default().apply(key, value)
    }

    /// Apply one stored setting over these values.
    pub fn apply(&mut self, key: &str, value: &Value) -> Result<(), SettingError> {
        match key {
            "runs.retention" => self.runs_retention = duration(key, value)?,
            "runs.keep_succeeded" => self.keep_succeeded = keep(key, value)?,
            "runs.keep_failed" => self.keep_failed = keep(key, value)?,
            "runs.default_timeout" => self.default_timeout = duration(key, value)?,
            "runs.default_memory_limit" => {
                self.default_memory_limit = parse_bytes(value).map_err(|r| invalid(key, r))?
            }
            // `null`: no cluster default (one attempt), as the effective settings show it.
            "runs.default_retry" if value.is_null() => self.default_retry = None,
            "runs.default_retry" => {
                self.default_retry =
                    Some(parse_retry(key, value).map_err(|e| invalid(key, e.message))?)
            }
            "scheduler.max_concurrent_runs" => {
                let n = value
                    .as_u64()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| invalid(key, "expected a whole number from 1 to 100000"))?;
                self.max_concurrent_runs = n as usize;
            }
            "scheduler.paused" => {
                self.scheduler_paused = value
                    .as_bool()
                    .ok_or_else(|| invalid(key, "expected true or false"))?
            }
            "plugins.default_allowed_hosts" => {
                let list: Vec<String> = serde_json::from_value(value.clone())
                    .map_err(|_| invalid(key, "expected a list of host patterns"))?;
                self.default_allowed_hosts =
                    parse_allowed_hosts(&list).map_err(|e| invalid(key, e.to_string()))?;
            }
            "metrics.token" => {
                let token = value
                    .as_str()
                    .filter(|t| t.len() >= 16)
                    .ok_or_else(|| invalid(key, "expected a string of at least 16 characters"))?;
                self.metrics_token = Some(token.to_string());
            }
            "alerts.webhooks" => {
                self.webhooks = parse_webhooks(key, value).map_err(|reason| invalid(key, reason))?
            }
            _ => match key.strip_prefix("config.") {
                Some(name) if !name.is_empty() => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| invalid(key, "config values are strings"))?;
                    self.config.insert(name.to_string(), text.to_string());
                }
                _ => return Err(SettingError::Unknown(key.to_string())),
            },
        }
        Ok(())
    }

    /// Every effective value under its key, as JSON (defaults included); `metrics.token` is
    /// shown only as whether it is set, `alerts.webhooks` only as how many.
    pub fn effective(&self) -> Value {
        let mut out = serde_json::Map::new();
        let d = |d: Duration| Value::String(humantime::format_duration(d).to_string());
        out.insert("runs.retention".into(), d(self.runs_retention));
        out.insert("runs.keep_succeeded".into(), self.keep_succeeded.into());
        out.insert("runs.keep_failed".into(), self.keep_failed.into());
        out.insert("runs.default_timeout".into(), d(self.default_timeout));
        out.insert(
            "runs.default_memory_limit".into(),
            self.default_memory_limit.into(),
        );
        out.insert(
            "runs.default_retry".into(),
            self.default_retry.as_ref().map_or(Value::Null, retry_json),
        );
        out.insert(
            "scheduler.max_concurrent_runs".into(),
            self.max_concurrent_runs.into(),
        );
        out.insert("scheduler.paused".into(), self.scheduler_paused.into());
        out.insert(
            "plugins.default_allowed_hosts".into(),
            self.default_allowed_hosts
                .iter()
                .map(|h| Value::String(h.to_string()))
                .collect(),
        );
        out.insert(
            "metrics.token_set".into(),
            self.metrics_token.is_some().into(),
        );
        // URLs and headers may carry tokens: only how many webhooks there are.
        out.insert("alerts.webhooks_count".into(), self.webhooks.len().into());
        for (key, value) in &self.config {
            out.insert(format!("config.{key}"), Value::String(value.clone()));
        }
        Value::Object(out)
    }

    /// Build settings from stored rows. A stored row that no longer validates (written by a
    /// newer version, say) is skipped with a warning; it never resets the others.
    pub fn from_rows(rows: &[(String, Value)]) -> Settings {
        let mut settings = Settings::default();
        for (key, value) in rows {
            if let Err(e) = settings.apply(key, value) {
                tracing::warn!(error = %e, "ignoring stored setting");
            }
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_keys_are_validated() {
        let mut s = Settings::default();
        s.apply("runs.retention", &json!("3d")).unwrap();
        assert_eq!(s.runs_retention, Duration::from_secs(3 * 86400));
        s.apply("runs.default_memory_limit", &json!("128MiB"))
            .unwrap();
        assert_eq!(s.default_memory_limit, 128 << 20);
        s.apply("scheduler.paused", &json!(true)).unwrap();
        assert!(s.scheduler_paused);
        s.apply("config.region", &json!("eu")).unwrap();
        assert_eq!(s.config["region"], "eu");
        s.apply("plugins.default_allowed_hosts", &json!(["*.example.com"]))
            .unwrap();
        assert_eq!(s.default_allowed_hosts.len(), 1);
        s.apply("runs.default_retry", &json!({"attempts": 3}))
            .unwrap();
        assert_eq!(s.default_retry.as_ref().map(|r| r.attempts), Some(3));
        // As the effective settings show "no default", and accepted back.
        s.apply("runs.default_retry", &Value::Null).unwrap();
        assert_eq!(s.default_retry, None);
        s.apply("runs.keep_succeeded", &json!(10)).unwrap();
        s.apply("runs.keep_failed", &json!(3)).unwrap();
        assert_eq!((s.keep_succeeded, s.keep_failed), (Some(10), Some(3)));
        assert_eq!(s.effective()["runs.keep_failed"], json!(3));
        s.apply("runs.keep_failed", &Value::Null).unwrap();
        assert_eq!(s.keep_failed, None);
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("10"),
            json!(MAX_KEEP_RUNS + 1),
        ] {
            let e = Settings::validate("runs.keep_succeeded", &bad).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("invalid value for setting \"runs.keep_succeeded\": expected a whole number of runs from 1"),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_and_ill_typed_keys_are_rejected_with_the_key_named() {
        assert!(matches!(
            Settings::validate("runs.retentoin", &json!("1d")),
            Err(SettingError::Unknown(k)) if k == "runs.retentoin"
        ));
        assert_eq!(
            Settings::validate("scheduler.paused", &json!("yes"))
                .unwrap_err()
                .to_string(),
            "invalid value for setting \"scheduler.paused\": expected true or false"
        );
        assert!(Settings::validate("runs.default_timeout", &json!("soon")).is_err());
        assert!(Settings::validate("runs.default_memory_limit", &json!("64 parsecs")).is_err());
        assert!(Settings::validate("scheduler.max_concurrent_runs", &json!(0)).is_err());
        assert!(Settings::validate("config.", &json!("x")).is_err());
        assert!(Settings::validate("config.x", &json!(5)).is_err());
    }

    #[test]
    fn a_bad_stored_row_does_not_reset_the_others() {
        let rows = vec![
            ("scheduler.max_concurrent_runs".to_string(), json!(8)),
            ("scheduler.paused".to_string(), json!("maybe")),
        ];
        let s = Settings::from_rows(&rows);
        assert_eq!(s.max_concurrent_runs, 8);
        assert!(!s.scheduler_paused);
    }
}
