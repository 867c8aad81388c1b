//! Job ownership on SQLite: claim, hand over, release. Every change of owner bumps the
//! job's epoch. A write locks the whole database, so a claim needs no row locks.

use sqlx::SqlitePool;

use crate::store::driver::OwnershipRow;
use crate::store::error::StoreError;
use crate::store::model::Job;
use crate::store::rows::{JobRow, jobs_from_rows};

/// Takes up to `$3` jobs without a live owner for `$1`; `$2` is the dead threshold.
const CLAIM: &str = concat!(
    "UPDATE jobs SET owner = $1, epoch = epoch + 1 WHERE id IN ( \
       SELECT j.id FROM jobs j WHERE j.owner IS NULL OR (j.owner <> $1 AND j.owner NOT IN (",
    live_ids!("$2"),
    ")) ORDER BY j.name LIMIT $3) RETURNING ",
    job_columns!()
);

/// `(live instance, jobs it owns, 1)` for every live instance, then `(owner, jobs, 0)` for
/// the jobs without a live owner; `$1` is the dead threshold.
const OWNERSHIP: &str = concat!(
    "WITH live AS (",
    live_ids!("$1"),
    "), c AS (SELECT owner, COUNT(*) AS n FROM jobs GROUP BY owner) \
     SELECT l.id AS id, COALESCE(c.n, 0) AS n, CAST(1 AS BIGINT) AS live FROM live l LEFT JOIN c ON c.owner = l.id \
     UNION ALL SELECT c.owner AS id, c.n AS n, CAST(0 AS BIGINT) AS live FROM c \
     WHERE c.owner IS NULL OR c.owner NOT IN (SELECT id FROM live) \
     ORDER BY live DESC, id"
);

/// Hands one job from `$1` to `$2` if still owned by `$1` under epoch `$4`.
const HAND_OVER: &str =
    "UPDATE jobs SET owner = $2, epoch = epoch + 1 WHERE id = $3 AND epoch = $4 AND owner = $1";

const OWNED: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE owner = $1 ORDER BY name"
);

pub(super) async fn claim(
    pool: &SqlitePool,
    instance: &str,
    dead_after_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = sqlx::query_as(CLAIM)
        .bind(instance)
        .bind(dead_after_ms)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    jobs_from_rows(rows)
}

pub(super) async fn ownership(
    pool: &SqlitePool,
    dead_after_ms: i64,
) -> Result<Vec<OwnershipRow>, StoreError> {
    let rows: Vec<(Option<String>, i64, i64)> = sqlx::query_as(OWNERSHIP)
        .bind(dead_after_ms)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n, live)| (id, n, live != 0))
        .collect())
}

pub(super) async fn hand_over(
    pool: &SqlitePool,
    from: &str,
    to: &str,
    jobs: &[(String, i64)],
) -> Result<Vec<String>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut moved = Vec::new();
    for (id, epoch) in jobs {
        let done = sqlx::query(HAND_OVER)
            .bind(from)
            .bind(to)
            .bind(id)
            .bind(epoch)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            moved.push(id.clone());
        }
    }
    tx.commit().await?;
    Ok(moved)
}

pub(super) async fn release_all(pool: &SqlitePool, instance: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("UPDATE jobs SET owner = NULL, epoch = epoch + 1 WHERE owner = $1")
        .bind(instance)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn release(
    pool: &SqlitePool,
    job_id: &str,
    instance: &str,
    epoch: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET owner = NULL, epoch = epoch + 1 \
         WHERE id = $1 AND owner = $2 AND epoch = $3",
    )
    .bind(job_id)
    .bind(instance)
    .bind(epoch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn owned(pool: &SqlitePool, instance: &str) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = sqlx::query_as(OWNED).bind(instance).fetch_all(pool).await?;
    jobs_from_rows(rows)
}

pub(super) async fn owned_versions(
    pool: &SqlitePool,
    instance: &str,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, version, epoch FROM jobs WHERE owner = $1 ORDER BY id")
            .bind(instance)
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn owned_counts(pool: &SqlitePool) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT owner, COUNT(*) FROM jobs WHERE owner IS NOT NULL GROUP BY owner ORDER BY owner",
    )
    .fetch_all(pool)
    .await?)
}
