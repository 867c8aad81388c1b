//! Job definitions on SQLite.

use sqlx::SqlitePool;

use crate::store::driver::JobEdit;
use crate::store::error::{StoreError, name_conflict};
use crate::store::model::{Job, JobFilter, JobPage, NewJob};
use crate::store::rows::{JobRow, jobs_from_rows, to_json_text};

const INSERT: &str = concat!(
    "INSERT INTO jobs (id, name, schedule, timezone, plugin, input, config, paused, \
     overlap, misfire, catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, \
     allowed_hosts, owner, epoch, version, anchor_ms, created_at_ms, updated_at_ms) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
     NULL, 0, 1, t.ms, t.ms, t.ms FROM (SELECT ",
    now_ms!(),
    " AS ms) t RETURNING ",
    job_columns!()
);

const BY_ID_OR_NAME: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC LIMIT 1"
);

const BY_ID: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");

const LIST: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE ($1 IS NULL OR plugin = $1) AND ($2 IS NULL OR paused = $2) \
     AND ($3 IS NULL OR owner = $3) AND ($4 IS NULL OR name > $4) \
     ORDER BY name LIMIT $5"
);

const UPDATE: &str = concat!(
    "UPDATE jobs SET name = $2, schedule = $3, timezone = $4, plugin = $5, input = $6, \
     config = $7, paused = $8, overlap = $9, misfire = $10, catchup_window_ms = $11, \
     jitter_ms = $12, timeout_ms = $13, memory_limit_bytes = $14, allowed_hosts = $15, \
     version = version + 1, updated_at_ms = t.ms, \
     anchor_ms = CASE WHEN $16 THEN t.ms ELSE anchor_ms END \
     FROM (SELECT ",
    now_ms!(),
    " AS ms) t WHERE id = $1 AND version = $17 RETURNING ",
    job_columns!()
);

pub(super) async fn create(pool: &SqlitePool, id: &str, new: &NewJob) -> Result<Job, StoreError> {
    let row: JobRow = sqlx::query_as(INSERT)
        .bind(id)
        .bind(&new.name)
        .bind(&new.schedule)
        .bind(&new.timezone)
        .bind(&new.plugin)
        .bind(to_json_text(&new.input))
        .bind(to_json_text(&new.config))
        .bind(new.paused)
        .bind(new.overlap.as_str())
        .bind(new.misfire.as_str())
        .bind(new.catchup_window_ms)
        .bind(new.jitter_ms)
        .bind(new.timeout_ms)
        .bind(new.memory_limit_bytes)
        .bind(to_json_text(&new.allowed_hosts))
        .fetch_one(pool)
        .await
        .map_err(|e| name_conflict(e, &new.name))?;
    Job::try_from(row)
}

pub(super) async fn get(pool: &SqlitePool, id_or_name: &str) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = sqlx::query_as(BY_ID_OR_NAME)
        .bind(id_or_name)
        .fetch_optional(pool)
        .await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn get_by_id(pool: &SqlitePool, id: &str) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = sqlx::query_as(BY_ID).bind(id).fetch_optional(pool).await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn list(
    pool: &SqlitePool,
    filter: &JobFilter,
    page: &JobPage,
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = sqlx::query_as(LIST)
        .bind(filter.plugin.as_deref())
        .bind(filter.paused)
        .bind(filter.owner.as_deref())
        .bind(page.after_name.as_deref())
        .bind(page.limit.max(0))
        .fetch_all(pool)
        .await?;
    jobs_from_rows(rows)
}

pub(super) async fn update(
    pool: &SqlitePool,
    edit: JobEdit<'_>,
) -> Result<Option<Job>, StoreError> {
    let job = edit.job;
    let row: Option<JobRow> = sqlx::query_as(UPDATE)
        .bind(&job.id)
        .bind(&job.name)
        .bind(&job.schedule)
        .bind(&job.timezone)
        .bind(&job.plugin)
        .bind(to_json_text(&job.input))
        .bind(to_json_text(&job.config))
        .bind(job.paused)
        .bind(job.overlap.as_str())
        .bind(job.misfire.as_str())
        .bind(job.catchup_window_ms)
        .bind(job.jitter_ms)
        .bind(job.timeout_ms)
        .bind(job.memory_limit_bytes)
        .bind(to_json_text(&job.allowed_hosts))
        .bind(edit.move_anchor)
        .bind(edit.read_version)
        .fetch_optional(pool)
        .await
        .map_err(|e| name_conflict(e, &job.name))?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn delete(pool: &SqlitePool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
