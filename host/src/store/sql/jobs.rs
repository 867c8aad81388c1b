//! Job definitions.

use super::{SqlEngine, Stmt};
use crate::store::driver::JobEdit;
use crate::store::error::{StoreError, name_conflict};
use crate::store::model::{Job, JobFilter, JobPage, NewJob};
use crate::store::rows::{JobRow, jobs_from_rows, to_json_text};

/// The catalogue's `insert_job` with its parameters bound.
pub(crate) fn insert_job_stmt<E: SqlEngine>(id: &str, new: &NewJob) -> Stmt<E::Db> {
    Stmt::new(E::SQL.insert_job)
        .bind(id)
        .bind(new.name.as_str())
        .bind(new.schedule.as_str())
        .bind(new.timezone.as_str())
        .bind(new.plugin.as_str())
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
        .bind(to_json_text(&new.failure))
        .bind(to_json_text(&new.secrets))
        .bind(new.managed_by.as_deref())
}

pub(super) async fn create<E: SqlEngine>(
    engine: &E,
    id: &str,
    new: &NewJob,
) -> Result<Job, StoreError> {
    let row: JobRow = insert_job_stmt::<E>(id, new)
        .fetch_one(engine.on())
        .await
        .map_err(|e| name_conflict(e, &new.name))?;
    Job::try_from(row)
}

pub(super) async fn get<E: SqlEngine>(
    engine: &E,
    id_or_name: &str,
) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = Stmt::new(E::SQL.job_by_id_or_name)
        .bind(id_or_name)
        .bind(id_or_name)
        .bind(id_or_name)
        .fetch_optional(engine.on())
        .await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn get_by_id<E: SqlEngine>(
    engine: &E,
    id: &str,
) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = Stmt::new(E::SQL.job_by_id)
        .bind(id)
        .fetch_optional(engine.on())
        .await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn list<E: SqlEngine>(
    engine: &E,
    filter: &JobFilter,
    page: &JobPage,
) -> Result<Vec<Job>, StoreError> {
    let (plugin, owner) = (filter.plugin.as_deref(), filter.owner.as_deref());
    let after = page.after_name.as_deref();
    let rows: Vec<JobRow> = Stmt::new(E::SQL.list_jobs)
        .bind(plugin)
        .bind(plugin)
        .bind(filter.paused)
        .bind(filter.paused)
        .bind(owner)
        .bind(owner)
        .bind(after)
        .bind(after)
        .bind(page.limit.max(0))
        .fetch_all(engine.on())
        .await?;
    jobs_from_rows(rows)
}

/// The catalogue's `update_job` with its parameters bound.
pub(crate) fn update_job_stmt<E: SqlEngine>(edit: &JobEdit<'_>) -> Stmt<E::Db> {
    let job = edit.job;
    Stmt::new(E::SQL.update_job)
        .bind(job.name.as_str())
        .bind(job.schedule.as_str())
        .bind(job.timezone.as_str())
        .bind(job.plugin.as_str())
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
        .bind(to_json_text(&job.failure))
        .bind(job.paused_reason.map(|r| r.as_str()))
        .bind(to_json_text(&job.secrets))
        .bind(edit.move_anchor)
        .bind(job.id.as_str())
        .bind(edit.read_version)
}

pub(super) async fn update<E: SqlEngine>(
    engine: &E,
    edit: JobEdit<'_>,
) -> Result<Option<Job>, StoreError> {
    if !edit.drop_retries {
        let row: Option<JobRow> = update_job_stmt::<E>(&edit)
            .fetch_optional(engine.on())
            .await
            .map_err(|e| name_conflict(e, &edit.job.name))?;
        return row.map(Job::try_from).transpose();
    }
    // The edit and the drop of the planned retries it makes obsolete commit together.
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let row: Option<JobRow> = update_job_stmt::<E>(&edit)
        .fetch_optional(held.on())
        .await
        .map_err(|e| name_conflict(e, &edit.job.name))?;
    if row.is_some() {
        Stmt::<E::Db>::new(E::SQL.drop_retries)
            .bind(edit.job.id.as_str())
            .execute(held.on())
            .await?;
    }
    tx.commit().await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn delete<E: SqlEngine>(engine: &E, id: &str) -> Result<bool, StoreError> {
    let deleted = Stmt::new(E::SQL.delete_job)
        .bind(id)
        .execute(engine.on())
        .await?;
    Ok(deleted > 0)
}
