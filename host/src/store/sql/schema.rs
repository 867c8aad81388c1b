//! The schema version applied, the clock, one round trip.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;

pub(super) async fn applied_version<E: SqlEngine>(engine: &E) -> Result<Option<i64>, StoreError> {
    let tables: i64 = Stmt::new(E::SQL.schema_table).scalar(engine.on()).await?;
    if tables == 0 {
        return Ok(None);
    }
    Ok(Stmt::new(E::SQL.schema_version).scalar(engine.on()).await?)
}

pub(super) async fn now_ms<E: SqlEngine>(engine: &E) -> Result<i64, StoreError> {
    Ok(Stmt::new(E::SQL.now).scalar(engine.on()).await?)
}

pub(super) async fn ping<E: SqlEngine>(engine: &E) -> Result<(), StoreError> {
    Stmt::new(E::SQL.ping).execute(engine.on()).await?;
    Ok(())
}
