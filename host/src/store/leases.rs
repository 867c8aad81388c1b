//! Named leases with their own epoch: leader election for cluster-wide housekeeping.
//!
//! A lease is held until `expires_at_ms` (database clock) and renewed by its holder before
//! then; anyone may take an expired lease, which bumps its epoch. Work done under a lease is
//! checked against `(holder, epoch)` right before it is done, so a holder that was paused past
//! the expiry does nothing once it has been replaced.

use super::Store;
use super::error::StoreError;

impl Store {
    /// Takes or renews lease `name` for `holder` for `ttl_ms`; returns its epoch when `holder`
    /// holds it now, `None` when someone else holds a lease that has not expired.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let upsert = sql!(
            "INSERT INTO leases (name, holder, epoch, expires_at_ms) \
             SELECT $1, $2, 1, t.ms + $3 FROM (SELECT ",
            now,
            " AS ms) t WHERE true \
             ON CONFLICT (name) DO UPDATE SET \
             epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch \
                 ELSE leases.epoch + 1 END, \
             holder = excluded.holder, expires_at_ms = excluded.expires_at_ms \
             WHERE leases.holder = excluded.holder OR leases.expires_at_ms < excluded.expires_at_ms - $3 \
             RETURNING epoch"
        );
        on_pool!(self, |pool, backend| {
            Ok(sqlx::query_scalar(upsert.get(backend))
                .bind(name)
                .bind(holder)
                .bind(ttl_ms)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Whether `holder` still holds lease `name` under `epoch` (and it has not expired).
    pub async fn holds_lease(
        &self,
        name: &str,
        holder: &str,
        epoch: i64,
    ) -> Result<bool, StoreError> {
        let select = sql!(
            "SELECT COUNT(*) FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 \
             AND expires_at_ms >= ",
            now
        );
        on_pool!(self, |pool, backend| {
            let n: i64 = sqlx::query_scalar(select.get(backend))
                .bind(name)
                .bind(holder)
                .bind(epoch)
                .fetch_one(pool)
                .await?;
            Ok(n > 0)
        })
    }

    /// The holder of lease `name` if it has not expired.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        let select = sql!(
            "SELECT holder FROM leases WHERE name = $1 AND expires_at_ms >= ",
            now
        );
        on_pool!(self, |pool, backend| {
            Ok(sqlx::query_scalar(select.get(backend))
                .bind(name)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Gives up lease `name` if `holder` holds it (graceful shutdown), so a peer takes it at
    /// its next heartbeat.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool, _backend| {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}
