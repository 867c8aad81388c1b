//! The failure-handling fields of a job as clients write them: `retry`,
//! `pause_after_failures`, `stale_after`. Each may be `null` in an edit, which clears it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::error::FieldError;
use crate::schedule::parse_duration;
use crate::settings::parse_retry;
use crate::store::RetryPolicy;

/// Most consecutive failed ticks `pause_after_failures` may wait for.
pub const MAX_PAUSE_AFTER_FAILURES: u64 = 10_000;

/// Deserializes a field that is present, `null` included, as `Some` (an absent field stays
/// `None` through `#[serde(default)]`).
pub(super) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The edit of the failure-handling fields: for each, `None` leaves it, `Some(None)` clears it.
#[derive(Debug, Default, PartialEq)]
pub(super) struct FailureEdit {
    pub retry: Option<Option<RetryPolicy>>,
    pub pause_after_failures: Option<Option<u32>>,
    pub stale_after_ms: Option<Option<i64>>,
}

/// Parses the fields that are present.
pub(super) fn failure_edit(
    retry: Option<&Value>,
    pause_after_failures: Option<&Value>,
    stale_after: Option<&Value>,
) -> Result<FailureEdit, FieldError> {
    let retry = retry
        .map(|v| match v {
            Value::Null => Ok(None),
            v => parse_retry("retry", v)
                .map(Some)
                .map_err(|e| FieldError::new(e.field, e.message)),
        })
        .transpose()?;
    let pause_after_failures = pause_after_failures
        .map(|v| match v {
            Value::Null => Ok(None),
            v => v
                .as_u64()
                .filter(|n| (1..=MAX_PAUSE_AFTER_FAILURES).contains(n))
                .map(|n| Some(n as u32))
                .ok_or_else(|| {
                    FieldError::new(
                        "pause_after_failures",
                        format!(
                            "pause_after_failures must be a whole number from 1 to \
                             {MAX_PAUSE_AFTER_FAILURES}, not {v}"
                        ),
                    )
                }),
        })
        .transpose()?;
    let stale_after_ms = stale_after
        .map(|v| match v {
            Value::Null => Ok(None),
            v => {
                let wrong =
                    |what: String| FieldError::new("stale_after", format!("stale_after: {what}"));
                let text = v
                    .as_str()
                    .ok_or_else(|| wrong("expected a duration such as \"1h\"".into()))?;
                let d = parse_duration(text).map_err(|e| wrong(e.to_string()))?;
                if d < Duration::from_secs(1) {
                    return Err(wrong("must be at least 1s".into()));
                }
                Ok(Some(d.as_millis().min(i64::MAX as u128) as i64))
            }
        })
        .transpose()?;
    Ok(FailureEdit {
        retry,
        pause_after_failures,
        stale_after_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn present_fields_are_parsed_and_null_clears() {
        let edit = failure_edit(
            Some(&json!({"attempts": 2, "backoff": "1s"})),
            Some(&Value::Null),
            Some(&json!("1h")),
        )
        .unwrap();
        assert_eq!(edit.retry.unwrap().unwrap().attempts, 2);
        assert_eq!(edit.pause_after_failures, Some(None));
        assert_eq!(edit.stale_after_ms, Some(Some(3_600_000)));
        assert_eq!(
            failure_edit(None, None, None).unwrap(),
            FailureEdit::default()
        );
    }

    #[test]
    fn every_rejection_names_its_field() {
        let cases = [
            (
                failure_edit(Some(&json!({"attempts": 0})), None, None),
                "retry.attempts",
            ),
            (
                failure_edit(None, Some(&json!(0)), None),
                "pause_after_failures",
            ),
            (
                failure_edit(None, Some(&json!("3")), None),
                "pause_after_failures",
            ),
            (
                failure_edit(None, None, Some(&json!("later"))),
                "stale_after",
            ),
            (failure_edit(None, None, Some(&json!("0s"))), "stale_after"),
        ];
        for (result, field) in cases {
            assert_eq!(result.unwrap_err().field, field);
        }
    }
}
