//! A job's failure handling as stored (one JSON column, `jobs.failure`): its retry policy,
//! when it pauses itself, when it counts as stale; and the retries waiting to run.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Most attempts a tick may have.
pub const MAX_ATTEMPTS: u32 = 100;

/// How a failed or timed-out run is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts of a tick in all, the first included (1: no retry), at most [`MAX_ATTEMPTS`].
    pub attempts: u32,
    /// Delay before the second attempt; each further delay doubles it.
    pub backoff_ms: i64,
    /// Longest delay.
    pub max_backoff_ms: i64,
}

impl RetryPolicy {
    /// The delay after attempt `failed` (from 1) failed: `backoff × 2^(failed-1)`, at most
    /// `max_backoff`; `None` when that was the last attempt.
    pub fn delay_after(&self, failed: u32) -> Option<i64> {
        if failed >= self.attempts {
            return None;
        }
        let doublings = failed.saturating_sub(1).min(62);
        let delay = self
            .backoff_ms
            .checked_mul(1_i64 << doublings)
            .unwrap_or(i64::MAX);
        Some(delay.min(self.max_backoff_ms))
    }
}

/// A job's failure handling; `None` fields take the cluster default (retry) or are off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailurePolicy {
    /// Retry policy; `None`: the cluster default (`runs.default_retry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Pause the job after this many consecutive ticks whose last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_after_failures: Option<u32>,
    /// The job is stale when it has not succeeded for this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_after_ms: Option<i64>,
}

/// Why the host paused a job (a job paused by hand has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PausedReason {
    /// `pause_after_failures` consecutive ticks failed.
    Failures,
}

impl PausedReason {
    /// The snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PausedReason::Failures => "failures",
        }
    }
}

impl fmt::Display for PausedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PausedReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "failures" => Ok(PausedReason::Failures),
            other => Err(format!("unknown paused reason {other:?}")),
        }
    }
}

/// The next attempt of a tick, planned when the attempt before it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRetry {
    /// Job id.
    pub job_id: String,
    /// The tick's scheduled instant.
    pub scheduled_at_ms: i64,
    /// The attempt to run (from 2).
    pub attempt: i32,
    /// When it is due (database clock).
    pub due_at_ms: i64,
    /// The tick was run late, as a caught-up tick.
    pub catch_up: bool,
    /// The tick was triggered by hand.
    pub manual: bool,
}

/// Where a planned attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryWait {
    /// Due in this many milliseconds (database clock; 0 or less: due now, late by its
    /// absolute value).
    DueIn(i64),
    /// Not pending (run already, or dropped by a pause, an edit or a delete).
    Gone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stop_after_the_last_attempt() {
        let policy = RetryPolicy {
            attempts: 5,
            backoff_ms: 1_000,
            max_backoff_ms: 5_000,
        };
        let delays: Vec<_> = (1..=5).map(|n| policy.delay_after(n)).collect();
        assert_eq!(
            delays,
            vec![Some(1_000), Some(2_000), Some(4_000), Some(5_000), None]
        );
        let huge = RetryPolicy {
            attempts: 100,
            backoff_ms: i64::MAX / 2,
            max_backoff_ms: i64::MAX,
        };
        assert_eq!(huge.delay_after(99), Some(i64::MAX));
    }

    #[test]
    fn the_policy_round_trips_through_its_column() {
        let policy = FailurePolicy {
            retry: Some(RetryPolicy {
                attempts: 3,
                backoff_ms: 10,
                max_backoff_ms: 20,
            }),
            pause_after_failures: Some(4),
            stale_after_ms: None,
        };
        let text = serde_json::to_string(&policy).unwrap();
        assert_eq!(
            serde_json::from_str::<FailurePolicy>(&text).unwrap(),
            policy
        );
        assert_eq!(
            serde_json::from_str::<FailurePolicy>("{}").unwrap(),
            FailurePolicy::default()
        );
    }
}
