//! Settings and API tokens.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;
use crate::store::tokens::StoredToken;

pub(super) async fn all<E: SqlEngine>(engine: &E) -> Result<Vec<(String, String)>, StoreError> {
    Ok(Stmt::new(E::SQL.settings_all)
        .fetch_all(engine.on())
        .await?)
}

pub(super) async fn put<E: SqlEngine>(
    engine: &E,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    Stmt::new(E::SQL.setting_put)
        .bind(key)
        .bind(value)
        .execute(engine.on())
        .await?;
    Ok(())
}

pub(super) async fn delete<E: SqlEngine>(engine: &E, key: &str) -> Result<bool, StoreError> {
    let deleted = Stmt::new(E::SQL.setting_delete)
        .bind(key)
        .execute(engine.on())
        .await?;
    Ok(deleted > 0)
}

pub(super) async fn tokens<E: SqlEngine>(engine: &E) -> Result<Vec<StoredToken>, StoreError> {
    Ok(Stmt::new(E::SQL.tokens_all).fetch_all(engine.on()).await?)
}

pub(super) async fn create_token<E: SqlEngine>(
    engine: &E,
    name: &str,
    role: &str,
    sha256: &str,
    created_by: Option<&str>,
) -> Result<Option<StoredToken>, StoreError> {
    Ok(Stmt::new(E::SQL.token_create)
        .bind(name)
        .bind(role)
        .bind(sha256)
        .bind(created_by)
        .fetch_optional(engine.on())
        .await?)
}

pub(super) async fn delete_token<E: SqlEngine>(engine: &E, name: &str) -> Result<bool, StoreError> {
    let deleted = Stmt::new(E::SQL.token_delete)
        .bind(name)
        .execute(engine.on())
        .await?;
    Ok(deleted > 0)
}

pub(super) async fn touch_token<E: SqlEngine>(engine: &E, name: &str) -> Result<(), StoreError> {
    Stmt::new(E::SQL.token_touch)
        .bind(name)
        .execute(engine.on())
        .await?;
    Ok(())
}
