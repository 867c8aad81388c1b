//! Named leases.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;

pub(super) async fn acquire<E: SqlEngine>(
    engine: &E,
    name: &str,
    holder: &str,
    ttl_ms: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(Stmt::new(E::SQL.acquire_lease)
        .bind(name)
        .bind(holder)
        .bind(ttl_ms)
        .bind(ttl_ms)
        .scalar_optional(engine.on())
        .await?)
}

pub(super) async fn holds<E: SqlEngine>(
    engine: &E,
    name: &str,
    holder: &str,
    epoch: i64,
) -> Result<bool, StoreError> {
    let holds: i64 = Stmt::new(E::SQL.holds_lease)
        .bind(name)
        .bind(holder)
        .bind(epoch)
        .scalar(engine.on())
        .await?;
    Ok(holds > 0)
}

pub(super) async fn holder<E: SqlEngine>(
    engine: &E,
    name: &str,
) -> Result<Option<String>, StoreError> {
    Ok(Stmt::new(E::SQL.lease_holder)
        .bind(name)
        .scalar_optional(engine.on())
        .await?)
}

pub(super) async fn release<E: SqlEngine>(
    engine: &E,
    name: &str,
    holder: &str,
) -> Result<(), StoreError> {
    Stmt::new(E::SQL.release_lease)
        .bind(name)
        .bind(holder)
        .execute(engine.on())
        .await?;
    Ok(())
}
