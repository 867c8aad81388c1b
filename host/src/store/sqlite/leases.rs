//! Named leases on SQLite.

use sqlx::SqlitePool;

use crate::store::error::StoreError;

/// Takes lease `$1` for `$2` for `$3` ms if it is free, expired or already `$2`'s; the epoch
/// moves only when the holder changes.
const ACQUIRE: &str = concat!(
    "INSERT INTO leases (name, holder, epoch, expires_at_ms) \
     SELECT $1, $2, 1, t.ms + $3 FROM (SELECT ",
    now_ms!(),
    " AS ms) t WHERE true \
     ON CONFLICT (name) DO UPDATE SET \
     epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch \
         ELSE leases.epoch + 1 END, \
     holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
     WHERE leases.holder = excluded.holder OR leases.expires_at_ms < excluded.expires_at_ms - $3 \
     RETURNING epoch"
);

const HOLDS: &str = concat!(
    "SELECT COUNT(*) FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 \
     AND expires_at_ms >= ",
    now_ms!()
);

const HOLDER: &str = concat!(
    "SELECT holder FROM leases WHERE name = $1 AND expires_at_ms >= ",
    now_ms!()
);

pub(super) async fn acquire(
    pool: &SqlitePool,
    name: &str,
    holder: &str,
    ttl_ms: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(ACQUIRE)
        .bind(name)
        .bind(holder)
        .bind(ttl_ms)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn holds(
    pool: &SqlitePool,
    name: &str,
    holder: &str,
    epoch: i64,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(HOLDS)
        .bind(name)
        .bind(holder)
        .bind(epoch)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

pub(super) async fn holder(pool: &SqlitePool, name: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(HOLDER)
        .bind(name)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn release(pool: &SqlitePool, name: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}
