//! What housekeeping deletes by age.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;

pub(super) async fn delete_runs<E: SqlEngine>(
    engine: &E,
    cutoff_ms: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.delete_runs)
        .bind(cutoff_ms)
        .bind(batch)
        .execute(engine.on())
        .await?)
}

pub(super) async fn prune_events<E: SqlEngine>(
    engine: &E,
    cutoff_ms: i64,
    keep: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.prune_events)
        .bind(cutoff_ms)
        .bind(keep)
        .execute(engine.on())
        .await?)
}

pub(super) async fn expire_triggers<E: SqlEngine>(
    engine: &E,
    cutoff_ms: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.expire_triggers)
        .bind(cutoff_ms)
        .execute(engine.on())
        .await?)
}

pub(super) async fn delete_stale_instances<E: SqlEngine>(
    engine: &E,
    stale_after_ms: i64,
) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.delete_stale_instances)
        .bind(stale_after_ms)
        .execute(engine.on())
        .await?)
}
