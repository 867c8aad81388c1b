//! Taking over jobs in bulk on PostgreSQL, three statements for any number of jobs: the ids
//! are bound as one JSON array (`$2`) and read back with `jsonb_array_elements_text`.

use sqlx::PgPool;

use crate::store::driver::ABANDONED_ERROR;
use crate::store::error::StoreError;
use crate::store::model::{Job, RunReason};
use crate::store::rows::{JobRow, jobs_from_rows, to_json_text};

/// The ids bound as one JSON array (`$2`), as a set of rows.
macro_rules! ids {
    () => {
        "(SELECT jsonb_array_elements_text($2::jsonb))"
    };
}

const ABANDON: &str = concat!(
    "UPDATE runs SET status = 'failed', reason = $3, error = COALESCE(runs.error, $4), \
     finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
     FROM (SELECT ",
    now_ms!(),
    " AS ms) t, jobs j WHERE runs.status = 'running' AND j.id = runs.job_id \
     AND j.owner = $1 AND runs.epoch < j.epoch AND runs.job_id IN ",
    ids!()
);

const OWNED_AMONG: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE owner = $1 AND id IN ",
    ids!(),
    " ORDER BY name"
);

const NEWEST_TICKS: &str = concat!(
    "SELECT x.job_id, x.m, (SELECT COUNT(*) FROM runs r WHERE r.job_id = x.job_id \
     AND NOT r.manual AND r.scheduled_at_ms <= x.m AND r.scheduled_at_ms > \
     CASE WHEN j.anchor_ms > x.m - $3 THEN j.anchor_ms ELSE x.m - $3 END) \
     FROM (SELECT job_id, MAX(scheduled_at_ms) AS m FROM runs WHERE NOT manual \
     AND job_id IN (SELECT id FROM jobs WHERE owner = $1 AND id IN ",
    ids!(),
    ") GROUP BY job_id) x JOIN jobs j ON j.id = x.job_id"
);

/// `$1` is the cursor, `$2` the ids.
const TICKS_AFTER: &str = concat!(
    "SELECT job_id, scheduled_at_ms FROM runs WHERE NOT manual AND scheduled_at_ms > $1 \
     AND job_id IN ",
    ids!()
);

pub(super) async fn abandon(
    pool: &PgPool,
    instance: &str,
    ids: &[String],
) -> Result<u64, StoreError> {
    let done = sqlx::query(ABANDON)
        .bind(instance)
        .bind(to_json_text(&ids))
        .bind(RunReason::Abandoned.as_str())
        .bind(ABANDONED_ERROR)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn owned_among(
    pool: &PgPool,
    instance: &str,
    ids: &[String],
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = sqlx::query_as(OWNED_AMONG)
        .bind(instance)
        .bind(to_json_text(&ids))
        .fetch_all(pool)
        .await?;
    jobs_from_rows(rows)
}

pub(super) async fn newest_ticks(
    pool: &PgPool,
    instance: &str,
    ids: &[String],
    lookback_ms: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(sqlx::query_as(NEWEST_TICKS)
        .bind(instance)
        .bind(to_json_text(&ids))
        .bind(lookback_ms)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn ticks_after(
    pool: &PgPool,
    from_ms: i64,
    ids: &[&str],
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(TICKS_AFTER)
        .bind(from_ms)
        .bind(to_json_text(&ids))
        .fetch_all(pool)
        .await?)
}
