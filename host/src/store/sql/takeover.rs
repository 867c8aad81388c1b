//! Taking over jobs in bulk, three statements for any number of jobs: the ids are bound as
//! one JSON array.

use super::{SqlEngine, Stmt};
use crate::store::driver::ABANDONED_ERROR;
use crate::store::error::StoreError;
use crate::store::model::{Job, RunReason};
use crate::store::rows::{JobRow, jobs_from_rows, to_json_text};

pub(super) async fn abandon<E: SqlEngine>(engine: &E, ids: &[String]) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.abandon_taken)
        .bind(RunReason::Abandoned.as_str())
        .bind(ABANDONED_ERROR)
        .bind(to_json_text(&ids))
        .execute(engine.on())
        .await?)
}

pub(super) async fn owned_among<E: SqlEngine>(
    engine: &E,
    instance: &str,
    ids: &[String],
) -> Result<Vec<Job>, StoreError> {
    let rows: Vec<JobRow> = Stmt::new(E::SQL.jobs_among)
        .bind(to_json_text(&ids))
        .fetch_all(engine.on())
        .await?;
    let mut jobs = jobs_from_rows(rows)?;
    jobs.retain(|job| job.owner.as_deref() == Some(instance));
    Ok(jobs)
}

pub(super) async fn newest_ticks<E: SqlEngine>(
    engine: &E,
    ids: &[String],
    lookback_ms: i64,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(Stmt::new(E::SQL.newest_ticks)
        .bind(lookback_ms)
        .bind(to_json_text(&ids))
        .fetch_all(engine.on())
        .await?)
}

pub(super) async fn ticks_after<E: SqlEngine>(
    engine: &E,
    from_ms: i64,
    ids: &[&str],
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(Stmt::new(E::SQL.ticks_after)
        .bind(from_ms)
        .bind(to_json_text(&ids))
        .fetch_all(engine.on())
        .await?)
}
