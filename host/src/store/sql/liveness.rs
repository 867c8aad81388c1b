//! Replicas and their liveness.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;
use crate::store::model::Instance;
use crate::store::rows::{InstanceRow, instances_from_rows};

pub(super) async fn heartbeat<E: SqlEngine>(
    engine: &E,
    id: &str,
    address: &str,
    version: &str,
) -> Result<i64, StoreError> {
    Ok(Stmt::new(E::SQL.heartbeat)
        .bind(id)
        .bind(address)
        .bind(version)
        .scalar(engine.on())
        .await?)
}

pub(super) async fn leave<E: SqlEngine>(engine: &E, id: &str) -> Result<(), StoreError> {
    Stmt::new(E::SQL.leave)
        .bind(id)
        .execute(engine.on())
        .await?;
    Ok(())
}

pub(super) async fn live<E: SqlEngine>(
    engine: &E,
    dead_after_ms: i64,
) -> Result<Vec<Instance>, StoreError> {
    let rows: Vec<InstanceRow> = Stmt::new(E::SQL.live_instances)
        .bind(dead_after_ms)
        .fetch_all(engine.on())
        .await?;
    Ok(instances_from_rows(rows))
}

pub(super) async fn all<E: SqlEngine>(engine: &E) -> Result<Vec<Instance>, StoreError> {
    let rows: Vec<InstanceRow> = Stmt::new(E::SQL.all_instances)
        .fetch_all(engine.on())
        .await?;
    Ok(instances_from_rows(rows))
}

pub(super) async fn orphans<E: SqlEngine>(
    engine: &E,
    dead_after_ms: i64,
) -> Result<Vec<(Option<String>, i64)>, StoreError> {
    Ok(Stmt::new(E::SQL.orphans)
        .bind(dead_after_ms)
        .fetch_all(engine.on())
        .await?)
}
