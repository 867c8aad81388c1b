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

/// At most this many of an owner's pending triggers are offered at a time.
const OWNED_TRIGGERS: usize = 100;
/// The pending triggers are read this many at a time …
const TRIGGER_PAGE: i64 = 100;
/// … and at most this many pages a look: the triggers of other replicas' jobs beyond them
/// wait until those replicas have run the first ones.
const TRIGGER_PAGES: usize = 20;

/// The pending triggers of `instance`'s jobs, oldest first: the pending triggers are read in
/// pages by their key and the owner is picked out here (see `pending_triggers`). With none
/// pending, as almost always, a look is one lookup that finds nothing.
pub(super) async fn owned_triggers<E: SqlEngine>(
    engine: &E,
    instance: &str,
) -> Result<Vec<PendingTrigger>, StoreError> {
    let mut owned = Vec::new();
    let mut after = 0_i64;
    for _ in 0..TRIGGER_PAGES {
        let rows: Vec<TriggerRow> = Stmt::new(E::SQL.pending_triggers)
            .bind(after)
            .bind(TRIGGER_PAGE)
            .fetch_all(engine.on())
            .await?;
        let full = rows.len() as i64 == TRIGGER_PAGE;
        for trigger in triggers_from_rows(rows)? {
            after = trigger.id;
            if trigger.job.owner.as_deref() == Some(instance) {
                owned.push(trigger);
            }
        }
        if !full || owned.len() >= OWNED_TRIGGERS {
            break;
        }
    }
    owned.truncate(OWNED_TRIGGERS);
    Ok(owned)
}

pub(super) async fn delete_trigger<E: SqlEngine>(engine: &E, id: i64) -> Result<(), StoreError> {
    Stmt::new(E::SQL.delete_trigger)
        .bind(id)
        .execute(engine.on())
        .await?;
    Ok(())
}
