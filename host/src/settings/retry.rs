//! A retry policy as users write it — `{"attempts": 3, "backoff": "10s", "max_backoff": "5m"}`
//! — for a job's `retry` field and the `runs.default_retry` setting alike.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::schedule::{format_duration, parse_duration};
use crate::store::{MAX_ATTEMPTS, RetryPolicy};

/// Delay before the second attempt when `backoff` is not given.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(10);
/// Longest delay when `max_backoff` is not given (or `backoff`, when that is longer).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// A rejected retry policy: the field as clients spell it (`retry.attempts`, …) and what
/// was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError {
    /// The offending field, under the prefix the caller gave.
    pub field: String,
    /// What was wrong, naming the field.
    pub message: String,
}

fn wrong(prefix: &str, name: &str, what: impl std::fmt::Display) -> RetryError {
    let field = if name.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}.{name}")
    };
    RetryError {
        message: format!("{field}: {what}"),
        field,
    }
}

fn duration_of(prefix: &str, name: &str, value: &Value) -> Result<Duration, RetryError> {
    let text = value
        .as_str()
        .ok_or_else(|| wrong(prefix, name, "expected a duration such as \"10s\""))?;
    let d = parse_duration(text).map_err(|e| wrong(prefix, name, e))?;
    if d.is_zero() {
        return Err(wrong(prefix, name, "must be greater than zero"));
    }
    Ok(d)
}

/// Parses a retry policy written under the field `prefix` (`retry`, `runs.default_retry`).
pub fn parse_retry(prefix: &str, value: &Value) -> Result<RetryPolicy, RetryError> {
    let object: &Map<String, Value> = value.as_object().ok_or_else(|| {
        wrong(
            prefix,
            "",
            "expected an object such as {\"attempts\": 3, \"backoff\": \"10s\"}",
        )
    })?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "attempts" | "backoff" | "max_backoff"))
    {
        return Err(wrong(
            prefix,
            unknown,
            "unknown field (expected attempts, backoff, max_backoff)",
        ));
    }
    let attempts = match object.get("attempts") {
        None => 1,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=u64::from(MAX_ATTEMPTS)).contains(n))
            .ok_or_else(|| {
                wrong(
                    prefix,
                    "attempts",
                    format!("expected a whole number from 1 to {MAX_ATTEMPTS}, not {v}"),
                )
            })? as u32,
    };
    let backoff = match object.get("backoff") {
        None => DEFAULT_BACKOFF,
        Some(v) => duration_of(prefix, "backoff", v)?,
    };
    let max_backoff = match object.get("max_backoff") {
        None => DEFAULT_MAX_BACKOFF.max(backoff),
        Some(v) => {
            let max = duration_of(prefix, "max_backoff", v)?;
            if max < backoff {
                return Err(wrong(
                    prefix,
                    "max_backoff",
                    format!(
                        "must not be shorter than backoff ({})",
                        format_duration(backoff)
                    ),
                ));
            }
            max
        }
    };
    Ok(RetryPolicy {
        attempts,
        backoff_ms: backoff.as_millis().min(i64::MAX as u128) as i64,
        max_backoff_ms: max_backoff.as_millis().min(i64::MAX as u128) as i64,
    })
}

/// A retry policy as users write it.
pub fn retry_json(policy: &RetryPolicy) -> Value {
    let d = |ms: i64| Value::String(format_duration(Duration::from_millis(ms.max(0) as u64)));
    serde_json::json!({
        "attempts": policy.attempts,
        "backoff": d(policy.backoff_ms),
        "max_backoff": d(policy.max_backoff_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_what_is_not_written() {
        let p = parse_retry("retry", &json!({"attempts": 3})).unwrap();
        assert_eq!(
            p,
            RetryPolicy {
                attempts: 3,
                backoff_ms: 10_000,
                max_backoff_ms: 3_600_000
            }
        );
        let p = parse_retry("retry", &json!({"backoff": "2h"})).unwrap();
        assert_eq!((p.attempts, p.max_backoff_ms), (1, 7_200_000));
        assert_eq!(
            parse_retry("retry", &retry_json(&p)).unwrap(),
            p,
            "what is shown reads back the same"
        );
    }

    #[test]
    fn every_rejection_names_its_field() {
        let cases = [
            (json!({"attempts": 0}), "retry.attempts"),
            (json!({"attempts": 101}), "retry.attempts"),
            (json!({"attempts": "3"}), "retry.attempts"),
            (json!({"backoff": "0s"}), "retry.backoff"),
            (json!({"backoff": "soon"}), "retry.backoff"),
            (
                json!({"backoff": "1m", "max_backoff": "10s"}),
                "retry.max_backoff",
            ),
            (json!({"tries": 3}), "retry.tries"),
            (json!(3), "retry"),
        ];
        for (value, field) in cases {
            let err = parse_retry("retry", &value).unwrap_err();
            assert_eq!(err.field, field, "{value}: {}", err.message);
            assert!(err.message.starts_with(field), "{}", err.message);
        }
    }
}
