//! Settings and API tokens on PostgreSQL.

use sqlx::PgPool;

use crate::store::error::StoreError;
use crate::store::tokens::StoredToken;

const PUT: &str = concat!(
    "INSERT INTO settings (key, value, updated_at_ms) VALUES ($1, $2, ",
    now_ms!(),
    ") ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
     updated_at_ms = excluded.updated_at_ms"
);

const TOKENS: &str = "SELECT name, role, sha256, created_at_ms, created_by, last_used_ms FROM api_tokens ORDER BY name";

const CREATE_TOKEN: &str = concat!(
    "INSERT INTO api_tokens (name, role, sha256, created_at_ms, created_by) VALUES ($1, $2, $3, ",
    now_ms!(),
    ", $4) ON CONFLICT (name) DO NOTHING \
     RETURNING name, role, sha256, created_at_ms, created_by, last_used_ms"
);

const TOUCH_TOKEN: &str = concat!(
    "UPDATE api_tokens SET last_used_ms = ",
    now_ms!(),
    " WHERE name = $1"
);

pub(super) async fn all(pool: &PgPool) -> Result<Vec<(String, String)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT key, value FROM settings ORDER BY key")
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn put(pool: &PgPool, key: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(PUT).bind(key).bind(value).execute(pool).await?;
    Ok(())
}

pub(super) async fn delete(pool: &PgPool, key: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn tokens(pool: &PgPool) -> Result<Vec<StoredToken>, StoreError> {
    Ok(sqlx::query_as(TOKENS).fetch_all(pool).await?)
}

pub(super) async fn create_token(
    pool: &PgPool,
    name: &str,
    role: &str,
    sha256: &str,
    created_by: Option<&str>,
) -> Result<Option<StoredToken>, StoreError> {
    Ok(sqlx::query_as(CREATE_TOKEN)
        .bind(name)
        .bind(role)
        .bind(sha256)
        .bind(created_by)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn delete_token(pool: &PgPool, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn touch_token(pool: &PgPool, name: &str) -> Result<(), StoreError> {
    sqlx::query(TOUCH_TOKEN).bind(name).execute(pool).await?;
    Ok(())
}
