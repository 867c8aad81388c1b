//! Job ownership: claim, hand over, release. Every change of owner bumps the job's epoch.

use super::{SqlEngine, Stmt};
use crate::store::driver::OwnershipRow;
use crate::store::error::StoreError;
use crate::store::model::Job;
use crate::store::rows::{JobRow, jobs_from_rows};

pub(super) async fn claim<E: SqlEngine>(
    engine: &E,
    instance: &str,
    dead_after_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = Stmt::new(E::SQL.claim_jobs)
        .bind(instance)
        .bind(instance)
        .bind(dead_after_ms)
        .bind(limit)
        .fetch_all(engine.on())
        .await?;
    jobs_from_rows(rows)
}

pub(super) async fn ownership<E: SqlEngine>(
    engine: &E,
    dead_after_ms: i64,
) -> Result<Vec<OwnershipRow>, StoreError> {
    let rows: Vec<(Option<String>, i64, i64)> = Stmt::new(E::SQL.ownership)
        .bind(dead_after_ms)
        .fetch_all(engine.on())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n, live)| (id, n, live != 0))
        .collect())
}

/// Claims the jobs one by one in one write transaction.
pub(super) async fn claim_unowned<E: SqlEngine>(
    engine: &E,
    instance: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let mut claimed = Vec::new();
    for id in ids {
        let done = Stmt::<E::Db>::new(E::SQL.claim_unowned)
            .bind(instance)
            .bind(id.as_str())
            .execute(held.on())
            .await?;
        if done > 0 {
            claimed.push(id.clone());
        }
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Moves the jobs one by one in one write transaction.
pub(super) async fn hand_over<E: SqlEngine>(
    engine: &E,
    from: &str,
    to: &str,
    jobs: &[(String, i64)],
) -> Result<Vec<String>, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let mut moved = Vec::new();
    for (id, epoch) in jobs {
        let done = Stmt::<E::Db>::new(E::SQL.hand_over)
            .bind(to)
            .bind(id.as_str())
            .bind(*epoch)
            .bind(from)
            .execute(held.on())
            .await?;
        if done > 0 {
            moved.push(id.clone());
        }
    }
    tx.commit().await?;
    Ok(moved)
}

pub(super) async fn release_all<E: SqlEngine>(
    engine: &E,
    instance: &str,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.release_jobs)
        .bind(instance)
        .execute(engine.on())
        .await?)
}

pub(super) async fn release<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    instance: &str,
    epoch: i64,
) -> Result<bool, StoreError> {
    let released = Stmt::new(E::SQL.release_job)
        .bind(job_id)
        .bind(instance)
        .bind(epoch)
        .execute(engine.on())
        .await?;
    Ok(released > 0)
}

pub(super) async fn owned<E: SqlEngine>(
    engine: &E,
    instance: &str,
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = Stmt::new(E::SQL.owned_jobs)
        .bind(instance)
        .fetch_all(engine.on())
        .await?;
    jobs_from_rows(rows)
}

pub(super) async fn owned_versions<E: SqlEngine>(
    engine: &E,
    instance: &str,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(Stmt::new(E::SQL.owned_versions)
        .bind(instance)
        .fetch_all(engine.on())
        .await?)
}

pub(super) async fn owned_counts<E: SqlEngine>(
    engine: &E,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(Stmt::new(E::SQL.owned_counts)
        .fetch_all(engine.on())
        .await?)
}
