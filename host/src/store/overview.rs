//! The on-call overview: what the cluster ran in the last hour, how late it fired, and what
//! needs attention (failing, paused-by-failure and stale jobs, failing alert deliveries),
//! read in one go on the database clock.

use super::Store;
use super::error::StoreError;
use super::model::RunStatus;

/// How far back the overview looks: one hour.
pub const OVERVIEW_WINDOW_MS: i64 = 3_600_000;
/// The width of one bucket of run counts: one minute.
pub const OVERVIEW_BUCKET_MS: i64 = 60_000;
/// Most lateness samples read (the newest ones of the window).
pub const LATENESS_SAMPLES: i64 = 100_000;
/// Most jobs listed per list.
pub const OVERVIEW_LIST_LIMIT: i64 = 100;

/// The runs of one minute, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MinuteCounts {
    /// The minute's first instant (database clock).
    pub start_ms: i64,
    /// Runs whose tick lies in the minute, indexed like [`RunStatus::ALL`].
    pub counts: [i64; 6],
}

impl MinuteCounts {
    /// The count of `status`.
    pub fn count(&self, status: RunStatus) -> i64 {
        let index = RunStatus::ALL.iter().position(|s| *s == status);
        index.map_or(0, |i| self.counts[i])
    }
}

/// Fire lateness (started minus scheduled) of the first attempts of scheduled ticks that
/// started in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lateness {
    /// How many starts were measured.
    pub samples: i64,
    /// Median, in milliseconds; `None` without samples.
    pub p50_ms: Option<i64>,
    /// 99th percentile, in milliseconds; `None` without samples.
    pub p99_ms: Option<i64>,
}

impl Lateness {
    /// Nearest-rank percentiles of `values` (sorted here).
    pub fn of(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        let rank = |p: f64| -> Option<i64> {
            if values.is_empty() {
                return None;
            }
            let n = values.len();
            let k = ((p * n as f64).ceil() as usize).clamp(1, n);
            Some(values[k - 1])
        };
        Lateness {
            samples: values.len() as i64,
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
        }
    }
}

/// A job whose newest tick's final attempt failed (no attempt of it waits or runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingJob {
    /// Job id.
    pub id: String,
    /// Job name.
    pub name: String,
    /// The tick.
    pub scheduled_at_ms: i64,
    /// Its last attempt.
    pub attempt: i32,
    /// `failed` or `timed_out`.
    pub status: RunStatus,
    /// Why.
    pub error: Option<String>,
    /// When that attempt ended.
    pub finished_at_ms: Option<i64>,
}

/// A job the host paused after consecutive failed ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedJob {
    /// Job id.
    pub id: String,
    /// Job name.
    pub name: String,
    /// Its threshold, as it is set now.
    pub pause_after_failures: Option<u32>,
    /// When the job last changed (its pause, unless edited since).
    pub updated_at_ms: i64,
}

/// A job that has not succeeded for its `stale_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleJob {
    /// Job id.
    pub id: String,
    /// Job name.
    pub name: String,
    /// Its `stale_after`.
    pub stale_after_ms: i64,
    /// When its newest succeeded run finished; `None` when none did.
    pub last_success_ms: Option<i64>,
}

/// Alert deliveries that are failing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertFailures {
    /// Pending deliveries with at least one failed attempt.
    pub retrying: i64,
    /// Deliveries given up (kept until housekeeping prunes them).
    pub given_up: i64,
    /// The error of the newest of them, with its webhook's host.
    pub latest: Option<(String, String)>,
}

/// The whole overview.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overview {
    /// The database clock when it was read.
    pub now_ms: i64,
    /// One entry per minute of the window, oldest first; the last is the current minute.
    pub minutes: Vec<MinuteCounts>,
    /// Fire lateness over the window.
    pub lateness: Lateness,
    /// Failing jobs, the most recent failure first.
    pub failing: Vec<FailingJob>,
    /// Jobs paused after failures, by name.
    pub paused: Vec<PausedJob>,
    /// Stale jobs, by name.
    pub stale: Vec<StaleJob>,
    /// Failing alert deliveries.
    pub alerts: AlertFailures,
}

/// The first instant of the window's oldest minute, for a database clock of `now_ms`.
pub fn window_start(now_ms: i64) -> i64 {
    let minute = now_ms - now_ms.rem_euclid(OVERVIEW_BUCKET_MS);
    minute - OVERVIEW_WINDOW_MS + OVERVIEW_BUCKET_MS
}

/// The window's minutes, oldest first, filled from `(minute start, status, count)` rows.
pub fn minutes_from(now_ms: i64, rows: &[(i64, RunStatus, i64)]) -> Vec<MinuteCounts> {
    let start = window_start(now_ms);
    let n = (OVERVIEW_WINDOW_MS / OVERVIEW_BUCKET_MS) as usize;
    let mut minutes: Vec<MinuteCounts> = (0..n)
        .map(|i| MinuteCounts {
            start_ms: start + i as i64 * OVERVIEW_BUCKET_MS,
            counts: [0; 6],
        })
        .collect();
    for (minute, status, count) in rows {
        let i = (minute - start).div_euclid(OVERVIEW_BUCKET_MS);
        let s = RunStatus::ALL.iter().position(|x| x == status);
        if let (Ok(i), Some(s)) = (usize::try_from(i), s)
            && i < n
        {
            minutes[i].counts[s] += count;
        }
    }
    minutes
}

impl Store {
    /// The on-call overview, on the database clock.
    pub async fn overview(&self) -> Result<Overview, StoreError> {
        self.bounded(self.driver.overview()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = Lateness::of((1..=100).rev().collect());
        assert_eq!((l.samples, l.p50_ms, l.p99_ms), (100, Some(50), Some(99)));
        let one = Lateness::of(vec![7]);
        assert_eq!((one.p50_ms, one.p99_ms), (Some(7), Some(7)));
        assert_eq!(Lateness::of(vec![]), Lateness::default());
    }

    #[test]
    fn minutes_cover_the_hour_up_to_the_current_minute() {
        let now = 10 * OVERVIEW_WINDOW_MS + 30_000;
        let current = now - 30_000;
        let rows = [
            (current, RunStatus::Failed, 2),
            (current - OVERVIEW_WINDOW_MS, RunStatus::Failed, 9),
            (window_start(now), RunStatus::Succeeded, 3),
        ];
        let minutes = minutes_from(now, &rows);
        assert_eq!(minutes.len(), 60);
        assert_eq!(minutes[59].start_ms, current);
        assert_eq!(minutes[59].count(RunStatus::Failed), 2);
        assert_eq!(minutes[0].count(RunStatus::Succeeded), 3);
        let total: i64 = minutes.iter().flat_map(|m| m.counts).sum();
        assert_eq!(total, 5);
    }
}
