//! The event history and manual triggers on SQLite.

use sqlx::SqlitePool;

use crate::store::error::StoreError;
use crate::store::events::{PendingTrigger, StoredEvent};
use crate::store::rows::{EventRow, TriggerRow, events_from_rows, triggers_from_rows};

const APPEND: &str = concat!(
    "INSERT INTO events (at_ms, kind, payload) VALUES (",
    now_ms!(),
    ", $1, $2) RETURNING id"
);

const AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE id > $1 ORDER BY id LIMIT $2"
);

/// A trigger of existing job `$1` at now; a second one in the same millisecond is the first.
const TRIGGER: &str = concat!(
    "INSERT INTO manual_triggers (job_id, scheduled_at_ms) SELECT id, ",
    now_ms!(),
    " FROM jobs WHERE id = $1 \
     ON CONFLICT (job_id, scheduled_at_ms) DO UPDATE SET job_id = excluded.job_id \
     RETURNING scheduled_at_ms"
);

const OWNED_TRIGGERS: &str = concat!(
    "SELECT ",
    trigger_columns!(),
    " FROM manual_triggers t JOIN jobs j ON j.id = t.job_id \
     WHERE j.owner = $1 ORDER BY t.id LIMIT 100"
);

pub(super) async fn append(
    pool: &SqlitePool,
    kind: &str,
    payload: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(APPEND)
        .bind(kind)
        .bind(payload)
        .fetch_one(pool)
        .await?)
}

pub(super) async fn after(
    pool: &SqlitePool,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = sqlx::query_as(AFTER)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    events_from_rows(rows)
}

pub(super) async fn last_id(pool: &SqlitePool) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT MAX(id) FROM events")
        .fetch_one(pool)
        .await?)
}

pub(super) async fn trigger(pool: &SqlitePool, job_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(TRIGGER)
        .bind(job_id)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn owned_triggers(
    pool: &SqlitePool,
    instance: &str,
) -> Result<Vec<PendingTrigger>, StoreError> {
    let rows: Vec<TriggerRow> = sqlx::query_as(OWNED_TRIGGERS)
        .bind(instance)
        .fetch_all(pool)
        .await?;
    triggers_from_rows(rows)
}

pub(super) async fn delete_trigger(pool: &SqlitePool, id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM manual_triggers WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
