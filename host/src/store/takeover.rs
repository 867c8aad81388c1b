//! Taking over jobs in bulk: what a replica reads and writes when it starts scheduling jobs
//! it now owns (claimed from a dead peer, handed over by a live one, or its own at start), in
//! three statements however many jobs there are.

use std::collections::{BTreeSet, HashMap};

use super::Store;
use super::error::StoreError;
use super::model::{Job, RunReason};
use super::rows::{JobRow, jobs_from_rows};

/// Error text of a run that lost its owner mid-run.
const ABANDONED_ERROR: &str = "the replica running it lost ownership of the job before it finished";

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

/// The ids bound as one JSON array (`$2`), read back as a set of rows on each backend.
macro_rules! ids_in {
    (sqlite) => {
        "(SELECT value FROM json_each($2))"
    };
    (postgres) => {
        "(SELECT jsonb_array_elements_text($2::jsonb))"
    };
}

macro_rules! both {
    ($($part:tt),+ $(,)?) => {
        super::sql::Sql {
            sqlite: concat!($(both!(@sqlite $part)),+),
            postgres: concat!($(both!(@postgres $part)),+),
        }
    };
    (@sqlite IDS) => { ids_in!(sqlite) };
    (@postgres IDS) => { ids_in!(postgres) };
    (@sqlite NOW) => { sqlite_now_ms!() };
    (@postgres NOW) => { postgres_now_ms!() };
    (@$backend:ident JOB_COLUMNS) => { job_columns!() };
    (@$backend:ident $literal:literal) => { $literal };
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
        let abandon = both!(
            "UPDATE runs SET status = 'failed', reason = $3, error = COALESCE(runs.error, $4), \
             finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
             FROM (SELECT ",
            NOW,
            " AS ms) t, jobs j WHERE runs.status = 'running' AND j.id = runs.job_id \
             AND j.owner = $1 AND runs.epoch < j.epoch AND runs.job_id IN ",
            IDS
        );
        let jobs = both!(
            "SELECT ",
            JOB_COLUMNS,
            " FROM jobs WHERE owner = $1 AND id IN ",
            IDS,
            " ORDER BY name"
        );
        let last = both!(
            "SELECT x.job_id, x.m, (SELECT COUNT(*) FROM runs r WHERE r.job_id = x.job_id \
             AND NOT r.manual AND r.scheduled_at_ms <= x.m AND r.scheduled_at_ms > \
             CASE WHEN j.anchor_ms > x.m - $3 THEN j.anchor_ms ELSE x.m - $3 END) \
             FROM (SELECT job_id, MAX(scheduled_at_ms) AS m FROM runs WHERE NOT manual \
             AND job_id IN (SELECT id FROM jobs WHERE owner = $1 AND id IN ",
            IDS,
            ") GROUP BY job_id) x JOIN jobs j ON j.id = x.job_id"
        );
        let ids = serde_json::to_string(ids).expect("ids serialize");
        on_pool!(self, |pool, backend| {
            let abandoned = sqlx::query(abandon.get(backend))
                .bind(instance)
                .bind(&ids)
                .bind(RunReason::Abandoned.as_str())
                .bind(ABANDONED_ERROR)
                .execute(pool)
                .await?
                .rows_affected();
            if abandoned > 0 {
                tracing::warn!(
                    abandoned,
                    "runs of a previous owner were cut off and recorded failed (abandoned)"
                );
            }
            let rows: Vec<JobRow> = sqlx::query_as(jobs.get(backend))
                .bind(instance)
                .bind(&ids)
                .fetch_all(pool)
                .await?;
            let ticks: HashMap<String, (i64, i64)> =
                sqlx::query_as::<_, (String, i64, i64)>(last.get(backend))
                    .bind(instance)
                    .bind(&ids)
                    .bind(HOLE_LOOKBACK_MS)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|(id, last, count)| (id, (last, count)))
                    .collect();
            Ok(jobs_from_rows(rows)?
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
        })
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
        let query = both!(
            "SELECT job_id, scheduled_at_ms FROM runs WHERE NOT manual AND scheduled_at_ms > $1 \
             AND job_id IN ",
            IDS
        );
        let ids: Vec<&str> = cursors.iter().map(|(id, _)| id.as_str()).collect();
        let ids = serde_json::to_string(&ids).expect("ids serialize");
        let rows: Vec<(String, i64)> = on_pool!(self, |pool, backend| {
            Ok::<_, StoreError>(
                sqlx::query_as(query.get(backend))
                    .bind(from)
                    .bind(&ids)
                    .fetch_all(pool)
                    .await?,
            )
        })?;
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
