//! The event history and manual triggers.

use super::{SqlEngine, Stmt};
use crate::store::error::StoreError;
use crate::store::events::{PendingTrigger, StoredEvent};
use crate::store::rows::{EventRow, TriggerRow, events_from_rows, triggers_from_rows};

pub(super) async fn append<E: SqlEngine>(
    engine: &E,
    kind: &str,
    payload: &str,
) -> Result<i64, StoreError> {
    Ok(Stmt::new(E::SQL.append_event)
        .bind(kind)
        .bind(payload)
        .scalar(engine.on())
        .await?)
}

/// Events of one multi-row insert.
const INSERT_ROWS: usize = 500;

/// Appends `events` in order in one write transaction, a multi-row statement per
/// [`INSERT_ROWS`], at the database's instant read at its start.
pub(super) async fn append_many<E: SqlEngine>(
    engine: &E,
    events: &[(&str, String)],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let now: i64 = Stmt::<E::Db>::new(E::SQL.now).scalar(held.on()).await?;
    for chunk in events.chunks(INSERT_ROWS) {
        let mut stmt = Stmt::<E::Db>::new("INSERT INTO events (at_ms, kind, payload) VALUES ");
        for (i, (kind, payload)) in chunk.iter().enumerate() {
            stmt = stmt
                .push(if i == 0 { "(" } else { ", (" })
                .push_bind(now)
                .push(", ")
                .push_bind(*kind)
                .push(", ")
                .push_bind(payload.as_str())
                .push(")");
        }
        stmt.execute(held.on()).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn after<E: SqlEngine>(
    engine: &E,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = Stmt::new(E::SQL.events_after)
        .bind(after)
        .bind(limit)
        .fetch_all(engine.on())
        .await?;
    events_from_rows(rows)
}

pub(super) async fn last_id<E: SqlEngine>(engine: &E) -> Result<Option<i64>, StoreError> {
    Ok(Stmt::new(E::SQL.last_event_id).scalar(engine.on()).await?)
}

pub(super) async fn trigger<E: SqlEngine>(
    engine: &E,
    job_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(Stmt::new(E::SQL.insert_trigger)
        .bind(job_id)
        .scalar_optional(engine.on())
        .await?)
}

pub(super) async fn owned_triggers<E: SqlEngine>(
    engine: &E,
    instance: &str,
) -> Result<Vec<PendingTrigger>, StoreError> {
    let rows: Vec<TriggerRow> = Stmt::new(E::SQL.owned_triggers)
        .bind(instance)
        .fetch_all(engine.on())
        .await?;
    triggers_from_rows(rows)
}

pub(super) async fn delete_trigger<E: SqlEngine>(engine: &E, id: i64) -> Result<(), StoreError> {
    Stmt::new(E::SQL.delete_trigger)
        .bind(id)
        .execute(engine.on())
        .await?;
    Ok(())
}
