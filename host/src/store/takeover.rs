//! Taking over jobs in bulk: what a replica reads and writes when it starts scheduling jobs
//! it now owns (claimed from a dead peer, handed over by a live one, or its own at start), in
//! three statements however many jobs there are.

use std::collections::HashMap;

use super::Store;
use super::error::StoreError;
use super::model::{Job, reason};
use super::rows::{JobRow, jobs_from_rows};

/// Error text of a run that lost its owner mid-run.
const ABANDONED_ERROR: &str = "the replica running it lost ownership of the job before it finished";

/// A job taken over: the job as stored, and its newest recorded (non-manual) tick.
#[derive(Clone, Debug)]
pub struct TakenJob {
    pub job: Job,
    pub last_tick_ms: Option<i64>,
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
            "SELECT job_id, MAX(scheduled_at_ms) FROM runs WHERE NOT manual AND job_id IN \
             (SELECT id FROM jobs WHERE owner = $1 AND id IN ",
            IDS,
            ") GROUP BY job_id"
        );
        let ids = serde_json::to_string(ids).expect("ids serialize");
        on_pool!(self, |pool, backend| {
            let abandoned = sqlx::query(abandon.get(backend))
                .bind(instance)
                .bind(&ids)
                .bind(reason::ABANDONED)
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
            let ticks: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(last.get(backend))
                .bind(instance)
                .bind(&ids)
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect();
            Ok(jobs_from_rows(rows)?
                .into_iter()
                .map(|job| TakenJob {
                    last_tick_ms: ticks.get(&job.id).copied(),
                    job,
                })
                .collect())
        })
    }
}
