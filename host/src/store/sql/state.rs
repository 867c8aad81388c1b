//! Plugin state.

use super::{SqlEngine, Stmt};
use crate::store::driver::StateWrite;
use crate::store::error::StoreError;

pub(super) async fn get<E: SqlEngine>(
    engine: &E,
    job_id: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(Stmt::new(E::SQL.state_get)
        .bind(job_id)
        .bind(key)
        .scalar_optional(engine.on())
        .await?)
}

pub(super) async fn set<E: SqlEngine>(
    engine: &E,
    write: StateWrite<'_>,
) -> Result<bool, StoreError> {
    let written = Stmt::new(E::SQL.state_set)
        .bind(write.key)
        .bind(write.value)
        .bind(write.job_id)
        .bind(write.instance)
        .bind(write.epoch)
        .execute(engine.on())
        .await?;
    Ok(written > 0)
}

pub(super) async fn keys<E: SqlEngine>(
    engine: &E,
    job_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(Stmt::new(E::SQL.state_keys)
        .bind(job_id)
        .scalars(engine.on())
        .await?)
}
