//! Reading runs.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;
use crate::store::model::{Run, RunFilter, RunPage};
use crate::store::rows::{RunRow, runs_from_rows};

pub(super) async fn get<E: SqlEngine>(engine: &E, run_id: i64) -> Result<Option<Run>, StoreError> {
    let row: Option<RunRow> = Stmt::new(E::SQL.run_by_id)
        .bind(run_id)
        .fetch_optional(engine.on())
        .await?;
    row.map(Run::try_from).transpose()
}

/// A run listing with only the conditions in use, so each shape gets its own plan. The one
/// statement assembled at run time, so it is not in the engines' catalogues: it is plain SQL
/// every engine reads alike, and its placeholders are written in the engine's style as the
/// values are bound.
pub(super) async fn list<E: SqlEngine>(
    engine: &E,
    filter: &RunFilter,
    page: &RunPage,
) -> Result<Vec<Run>, StoreError> {
    let mut sql = Stmt::<E::Db>::new(concat!("SELECT ", run_columns!(), " FROM runs WHERE TRUE"));
    if let Some(job_id) = &filter.job_id {
        sql = sql.push(" AND job_id = ").push_bind(job_id.as_str());
    }
    if let Some(status) = filter.status {
        sql = sql.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(from) = filter.from_ms {
        sql = sql.push(" AND scheduled_at_ms >= ").push_bind(from);
    }
    if let Some(to) = filter.to_ms {
        sql = sql.push(" AND scheduled_at_ms < ").push_bind(to);
    }
    if let Some(cursor) = page.before {
        sql = sql
            .push(" AND (scheduled_at_ms < ")
            .push_bind(cursor.scheduled_at_ms)
            .push(" OR (scheduled_at_ms = ")
            .push_bind(cursor.scheduled_at_ms)
            .push(" AND id < ")
            .push_bind(cursor.id)
            .push("))");
    }
    let rows: Vec<RunRow> = sql
        .push(" ORDER BY scheduled_at_ms DESC, id DESC LIMIT ")
        .push_bind(page.limit.max(0))
        .fetch_all(engine.on())
        .await?;
    runs_from_rows(rows)
}

pub(super) async fn last_tick<E: SqlEngine>(
    engine: &E,
    job_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(Stmt::new(E::SQL.last_tick)
        .bind(job_id)
        .scalar(engine.on())
        .await?)
}

pub(super) async fn running_count<E: SqlEngine>(
    engine: &E,
    job_id: &str,
) -> Result<i64, StoreError> {
    Ok(Stmt::new(E::SQL.running_count)
        .bind(job_id)
        .scalar(engine.on())
        .await?)
}
