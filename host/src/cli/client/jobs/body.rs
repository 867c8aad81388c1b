//! The body of `POST /jobs` and `PATCH /jobs/{id}` from the command line: the fields given
//! as flags (the API's [`crate::api::JobFields`]), over a job file's when `add -f` names one.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::args::FieldArgs;
use crate::cli::client::error::ClientError;

/// The job fields a request sets; absent ones are left out of the JSON.
#[derive(Debug, Default, Serialize)]
pub struct JobBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misfire: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catchup_window: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<MemoryLimit>,
    /// Free-form: whatever JSON the plugin takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// `{"attempts", "backoff", "max_backoff"}` with the flags given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_after_failures: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_after: Option<String>,
}

/// A memory limit as given: a number of bytes, or a size the server parses (`64MiB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MemoryLimit {
    Bytes(u64),
    Size(String),
}

/// `KEY=VALUE` arguments of the repeatable `flag` as a map.
fn pairs(
    flag: &str,
    shape: &str,
    given: &[String],
) -> Result<BTreeMap<String, String>, ClientError> {
    given
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| ClientError::Usage(format!("{flag} {pair:?} is not {shape}")))
        })
        .collect()
}

impl FieldArgs {
    /// The fields that were given, named `name` when that is given too.
    pub fn body(&self, name: Option<String>) -> Result<JobBody, ClientError> {
        let input = self
            .input
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| ClientError::Usage(format!("--input is not JSON: {e}")))?;
        let config = pairs("--config", "KEY=VALUE", &self.config)?;
        let secrets = pairs("--secret", "KEY=SECRET_NAME", &self.secrets)?;
        Ok(JobBody {
            name,
            schedule: self.schedule.clone(),
            plugin: self.plugin.clone(),
            timezone: self.timezone.clone(),
            overlap: self.overlap.clone(),
            misfire: self.misfire.clone(),
            catchup_window: self.catchup_window.clone(),
            jitter: self.jitter.clone(),
            timeout: self.timeout.clone(),
            memory_limit: self.memory_limit.as_deref().map(|m| {
                m.parse()
                    .map_or_else(|_| MemoryLimit::Size(m.to_string()), MemoryLimit::Bytes)
            }),
            input,
            config: (!config.is_empty()).then_some(config),
            secrets: (!secrets.is_empty()).then_some(secrets),
            allowed_hosts: (!self.allowed_hosts.is_empty()).then(|| self.allowed_hosts.clone()),
            paused: None,
            retry: self.retry(),
            pause_after_failures: self.pause_after_failures,
            stale_after: self.stale_after.clone(),
        })
    }

    /// The retry policy of the `--retry-*` flags given, if any is.
    fn retry(&self) -> Option<Map<String, Value>> {
        let mut retry = Map::new();
        if let Some(n) = self.retry_attempts {
            retry.insert("attempts".into(), n.into());
        }
        if let Some(d) = &self.retry_backoff {
            retry.insert("backoff".into(), d.as_str().into());
        }
        if let Some(d) = &self.retry_max_backoff {
            retry.insert("max_backoff".into(), d.as_str().into());
        }
        (!retry.is_empty()).then_some(retry)
    }
}

impl JobBody {
    /// The body as a JSON object of the fields that are set.
    pub fn into_object(self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(fields)) => fields,
            _ => Map::new(),
        }
    }
}

/// The job object in `path` (`-` for standard input): free-form JSON the server checks.
pub fn read_job_file(path: &Path) -> Result<Map<String, Value>, ClientError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ClientError::Usage(format!("cannot read {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(job)) => Ok(job),
        Ok(_) => Err(ClientError::Usage(format!(
            "{} must hold one JSON object (a job)",
            path.display()
        ))),
        Err(e) => Err(ClientError::Usage(format!(
            "{} is not JSON: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_given_flags_are_sent() {
        let args = FieldArgs {
            schedule: Some("@hourly".into()),
            input: Some(r#"{"a":1}"#.into()),
            config: vec!["k=v=w".into(), "x=".into()],
            secrets: vec!["TOKEN=api-token".into()],
            memory_limit: Some("64MiB".into()),
            allowed_hosts: vec!["example.com".into()],
            ..FieldArgs::default()
        };
        assert_eq!(
            Value::Object(args.body(Some("j".into())).unwrap().into_object()),
            json!({
                "name": "j",
                "schedule": "@hourly",
                "input": {"a": 1},
                "config": {"k": "v=w", "x": ""},
                "secrets": {"TOKEN": "api-token"},
                "memory_limit": "64MiB",
                "allowed_hosts": ["example.com"],
            })
        );
        let bytes = FieldArgs {
            memory_limit: Some("1048576".into()),
            ..FieldArgs::default()
        };
        assert_eq!(
            Value::Object(bytes.body(None).unwrap().into_object()),
            json!({"memory_limit": 1048576})
        );
        let failure = FieldArgs {
            retry_attempts: Some(3),
            retry_backoff: Some("10s".into()),
            pause_after_failures: Some(5),
            stale_after: Some("1h".into()),
            ..FieldArgs::default()
        };
        assert_eq!(
            Value::Object(failure.body(None).unwrap().into_object()),
            json!({"retry": {"attempts": 3, "backoff": "10s"}, "pause_after_failures": 5,
                   "stale_after": "1h"})
        );
        assert!(
            FieldArgs::default()
                .body(None)
                .unwrap()
                .into_object()
                .is_empty()
        );
    }

    #[test]
    fn bad_input_and_config_are_usage_errors() {
        let input = FieldArgs {
            input: Some("{".into()),
            ..FieldArgs::default()
        };
        assert!(
            matches!(input.body(None), Err(ClientError::Usage(m)) if m.starts_with("--input is not JSON"))
        );
        let config = FieldArgs {
            config: vec!["novalue".into()],
            ..FieldArgs::default()
        };
        assert!(
            matches!(config.body(None), Err(ClientError::Usage(m)) if m.contains("is not KEY=VALUE"))
        );
    }
}
