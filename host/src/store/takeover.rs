//! Taking over jobs in bulk: what a replica reads and writes when it starts scheduling jobs
//! it now owns (claimed from a dead peer, handed over by a live one, or its own at start), in
//! three statements however many jobs there are.

use std::collections::{BTreeSet, HashMap};

use super::Store;
use super::error::StoreError;
use super::model::Job;

/// How far below its newest recorded tick a taken-over job is checked for unrecorded ticks.
pub const HOLE_LOOKBACK_MS: i64 = 15 * 60 * 1000;

/// A job taken over: the job as stored, and its newest recorded (non-manual) tick.
#[derive(Clone, Debug)]
pub struct TakenJob {
    pub job: Job,
    pub last_tick_ms: Option<i64>,
    /// How many non-manual ticks are recorded in `(window_from_ms, last_tick_ms]`, where
    /// `window_from_ms` is the later of the job's anchor and `last_tick_ms` minus
    /// [`HOLE_LOOKBACK_MS`]: fewer than the schedule has there means a hole (a tick that was
    /// waiting on the previous owner when a later one was recorded).
    pub recorded_in_window: i64,
}

impl TakenJob {
    /// The start (exclusive) of the window [`TakenJob::recorded_in_window`] counts.
    pub fn window_from_ms(&self) -> Option<i64> {
        self.last_tick_ms
            .map(|last| (last - HOLE_LOOKBACK_MS).max(self.job.anchor_ms))
    }
}

impl Store {
    /// For the jobs among `ids` that `instance` owns now: marks their runs still `running`
    /// under an older epoch as `failed` (reason `abandoned`: their previous owner lost them
    /// mid-run), and returns each job with its newest recorded tick, the catch-up cursor.
    pub async fn take_over(
        &self,
        instance: &str,
        ids: &[String],
    ) -> Result<Vec<TakenJob>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let driver = &self.driver;
        let (abandoned, jobs, ticks) = self
            .bounded(async {
                let jobs = driver.owned_among(instance, ids).await?;
                if jobs.is_empty() {
                    return Ok((0, jobs, Vec::new()));
                }
                let owned: Vec<String> = jobs.iter().map(|job| job.id.clone()).collect();
                let abandoned = driver.abandon_taken_runs(&owned).await?;
                let ticks = driver.newest_ticks(&owned, HOLE_LOOKBACK_MS).await?;
                Ok((abandoned, jobs, ticks))
            })
            .await?;
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "runs of a previous owner were cut off and recorded failed (abandoned)"
            );
        }
        let ticks: HashMap<String, (i64, i64)> = ticks
            .into_iter()
            .map(|(id, last, count)| (id, (last, count)))
            .collect();
        Ok(jobs
            .into_iter()
            .map(|job| {
                let (last, count) = ticks.get(&job.id).copied().unzip();
                TakenJob {
                    last_tick_ms: last,
                    recorded_in_window: count.unwrap_or(0),
                    job,
                }
            })
            .collect())
    }

    /// The non-manual ticks recorded after each job's cursor (at most [`HOLE_LOOKBACK_MS`]
    /// before the newest cursor), by job: what a database outage did not stop being recorded.
    pub async fn recorded_after(
        &self,
        cursors: &[(String, i64)],
    ) -> Result<HashMap<String, BTreeSet<i64>>, StoreError> {
        let Some(newest) = cursors.iter().map(|(_, c)| *c).max() else {
            return Ok(HashMap::new());
        };
        let oldest = cursors.iter().map(|(_, c)| *c).min().unwrap_or(newest);
        let from = oldest.max(newest - HOLE_LOOKBACK_MS);
        let ids: Vec<&str> = cursors.iter().map(|(id, _)| id.as_str()).collect();
        let rows = self.bounded(self.driver.ticks_after(from, &ids)).await?;
        let cursor_of: HashMap<&str, i64> =
            cursors.iter().map(|(id, c)| (id.as_str(), *c)).collect();
        let mut recorded: HashMap<String, BTreeSet<i64>> = HashMap::new();
        for (job, tick) in rows {
            if cursor_of.get(job.as_str()).is_some_and(|c| tick > *c) {
                recorded.entry(job).or_default().insert(tick);
            }
        }
        Ok(recorded)
    }
}
