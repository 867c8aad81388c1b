//! Replicas and their liveness on PostgreSQL: the heartbeat, and the session where one is
//! recorded (see `live_ids!` in the module root and [`super::session`]).

use sqlx::PgPool;

use crate::store::error::StoreError;
use crate::store::model::Instance;
use crate::store::rows::{InstanceRow, instances_from_rows};

const HEARTBEAT: &str = concat!(
    "INSERT INTO instances (id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms) \
     SELECT $1, $2, $3, t.ms, t.ms, NULL FROM (SELECT ",
    now_ms!(),
    " AS ms) t WHERE true \
     ON CONFLICT (id) DO UPDATE SET address = excluded.address, \
     version = excluded.version, heartbeat_at_ms = excluded.heartbeat_at_ms, \
     started_at_ms = CASE WHEN instances.left_at_ms IS NULL \
         THEN instances.started_at_ms ELSE excluded.started_at_ms END, \
     left_at_ms = NULL \
     RETURNING heartbeat_at_ms"
);

const LEAVE: &str = concat!(
    "UPDATE instances SET left_at_ms = ",
    now_ms!(),
    " WHERE id = $1"
);

/// Live instances, by id; `$1` is the dead threshold.
const LIVE: &str = concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances WHERE id IN (",
    live_ids!("$1"),
    ") ORDER BY id"
);

const ALL: &str = concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances ORDER BY id"
);

/// `(dead instance, jobs it still owns)` for every instance that is not live but owns jobs,
/// then `(NULL, jobs without an owner)`; `$1` is the dead threshold.
const ORPHANS: &str = concat!(
    "SELECT d.id AS id, (SELECT COUNT(*) FROM jobs j WHERE j.owner = d.id) AS n \
     FROM instances d WHERE d.id NOT IN (",
    live_ids!("$1"),
    ") AND EXISTS (SELECT 1 FROM jobs j WHERE j.owner = d.id) \
     UNION ALL SELECT NULL AS id, COUNT(*) AS n FROM jobs WHERE owner IS NULL \
     ORDER BY id"
);

pub(super) async fn heartbeat(
    pool: &PgPool,
    id: &str,
    address: &str,
    version: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(HEARTBEAT)
        .bind(id)
        .bind(address)
        .bind(version)
        .fetch_one(pool)
        .await?)
}

pub(super) async fn leave(pool: &PgPool, id: &str) -> Result<(), StoreError> {
    sqlx::query(LEAVE).bind(id).execute(pool).await?;
    Ok(())
}

pub(super) async fn live(pool: &PgPool, dead_after_ms: i64) -> Result<Vec<Instance>, StoreError> {
    let rows: Vec<InstanceRow> = sqlx::query_as(LIVE)
        .bind(dead_after_ms)
        .fetch_all(pool)
        .await?;
    Ok(instances_from_rows(rows))
}

pub(super) async fn all(pool: &PgPool) -> Result<Vec<Instance>, StoreError> {
    let rows: Vec<InstanceRow> = sqlx::query_as(ALL).fetch_all(pool).await?;
    Ok(instances_from_rows(rows))
}

pub(super) async fn orphans(
    pool: &PgPool,
    dead_after_ms: i64,
) -> Result<Vec<(Option<String>, i64)>, StoreError> {
    Ok(sqlx::query_as(ORPHANS)
        .bind(dead_after_ms)
        .fetch_all(pool)
        .await?)
}
