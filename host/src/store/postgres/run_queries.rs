//! Reading runs on PostgreSQL.

use sqlx::{AssertSqlSafe, PgPool};

use super::runs::RECORDED;
use crate::store::error::StoreError;
use crate::store::model::{Run, RunFilter, RunPage};
use crate::store::rows::{RunRow, runs_from_rows};

const BY_ID: &str = concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1");

pub(super) async fn get(pool: &PgPool, run_id: i64) -> Result<Option<Run>, StoreError> {
    let row: Option<RunRow> = sqlx::query_as(BY_ID)
        .bind(run_id)
        .fetch_optional(pool)
        .await?;
    row.map(Run::try_from).transpose()
}

/// The `SELECT` of a run listing with only the conditions in use, so each shape gets its own
/// plan; parameters in the order [`list`] binds them.
fn list_sql(filter: &RunFilter, page: &RunPage) -> String {
    let mut sql = String::from(concat!("SELECT ", run_columns!(), " FROM runs WHERE TRUE"));
    let mut next = 0;
    let mut param = || {
        next += 1;
        format!("${next}")
    };
    if filter.job_id.is_some() {
        sql += &format!(" AND job_id = {}", param());
    }
    if filter.status.is_some() {
        sql += &format!(" AND status = {}", param());
    }
    if filter.from_ms.is_some() {
        sql += &format!(" AND scheduled_at_ms >= {}", param());
    }
    if filter.to_ms.is_some() {
        sql += &format!(" AND scheduled_at_ms < {}", param());
    }
    if page.before.is_some() {
        let (at, id) = (param(), param());
        sql += &format!(" AND (scheduled_at_ms < {at} OR (scheduled_at_ms = {at} AND id < {id}))");
    }
    sql += &format!(" ORDER BY scheduled_at_ms DESC, id DESC LIMIT {}", param());
    sql
}

pub(super) async fn list(
    pool: &PgPool,
    filter: &RunFilter,
    page: &RunPage,
) -> Result<Vec<Run>, StoreError> {
    let sql = list_sql(filter, page);
    let mut query = sqlx::query_as::<_, RunRow>(AssertSqlSafe(sql));
    if let Some(job_id) = &filter.job_id {
        query = query.bind(job_id);
    }
    if let Some(status) = filter.status {
        query = query.bind(status.as_str());
    }
    if let Some(from) = filter.from_ms {
        query = query.bind(from);
    }
    if let Some(to) = filter.to_ms {
        query = query.bind(to);
    }
    if let Some(cursor) = page.before {
        query = query.bind(cursor.scheduled_at_ms).bind(cursor.id);
    }
    let rows = query.bind(page.limit.max(0)).fetch_all(pool).await?;
    runs_from_rows(rows)
}

pub(super) async fn last_tick(pool: &PgPool, job_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar(
            "SELECT MAX(scheduled_at_ms) FROM runs WHERE job_id = $1 AND NOT manual",
        )
        .bind(job_id)
        .fetch_one(pool)
        .await?,
    )
}

pub(super) async fn tick_recorded(
    pool: &PgPool,
    job_id: &str,
    scheduled_at_ms: i64,
) -> Result<bool, StoreError> {
    let recorded: i64 = sqlx::query_scalar(RECORDED)
        .bind(job_id)
        .bind(scheduled_at_ms)
        .fetch_one(pool)
        .await?;
    Ok(recorded > 0)
}

pub(super) async fn running_count(pool: &PgPool, job_id: &str) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE job_id = $1 AND status = 'running'")
            .bind(job_id)
            .fetch_one(pool)
            .await?,
    )
}
