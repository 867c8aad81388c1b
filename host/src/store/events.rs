//! The cluster's event history (what `GET /api/v1/events` streams) and manual triggers
//! (`POST /api/v1/jobs/{id}/trigger` requests waiting for the job's owner).
//!
//! On PostgreSQL every appended event is announced with `NOTIFY wasmcron_events, '<id>'`, so
//! the replicas' listeners wake at once; on SQLite (one process) readers poll.

use serde_json::Value;
use sqlx::postgres::PgListener;

use super::error::StoreError;
use super::rows::JobRow;
use super::{Job, Pool, Store};

/// The PostgreSQL notification channel that announces new events.
pub const EVENTS_CHANNEL: &str = "wasmcron_events";

/// One persisted event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Position in the history (increasing; the SSE `id`).
    pub id: i64,
    /// When it was published (database clock).
    pub at_ms: i64,
    /// Kind, such as `run.finished`.
    pub kind: String,
    /// Kind-specific fields.
    pub payload: Value,
}

/// A manual trigger waiting for its job's owner.
#[derive(Debug, Clone)]
pub struct PendingTrigger {
    /// Trigger id.
    pub id: i64,
    /// The tick's instant (fixed when the trigger was accepted).
    pub scheduled_at_ms: i64,
    /// The job, as stored now (owner and epoch included).
    pub job: Job,
}

impl Store {
    /// Appends an event; returns its id. On PostgreSQL, listeners are notified.
    pub async fn append_event(&self, kind: &str, payload: &Value) -> Result<i64, StoreError> {
        let insert = sql!(
            "INSERT INTO events (at_ms, kind, payload) VALUES (",
            now,
            ", $1, $2) RETURNING id"
        );
        let text = payload.to_string();
        on_pool!(self, |pool, backend| {
            let id: i64 = sqlx::query_scalar(insert.get(backend))
                .bind(kind)
                .bind(&text)
                .fetch_one(pool)
                .await?;
            if backend == super::Backend::Postgres {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(EVENTS_CHANNEL)
                    .bind(id.to_string())
                    .execute(pool)
                    .await?;
            }
            Ok(id)
        })
    }

    /// Up to `limit` events with an id above `after`, oldest first.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        on_pool!(self, |pool, _backend| {
            let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
                "SELECT id, at_ms, kind, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|(id, at_ms, kind, payload)| {
                    let payload =
                        serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt {
                            what: "event",
                            detail: format!("{id}: {e}"),
                        })?;
                    Ok(StoredEvent {
                        id,
                        at_ms,
                        kind,
                        payload,
                    })
                })
                .collect()
        })
    }

    /// The newest event id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(
                sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM events")
                    .fetch_one(pool)
                    .await?
                    .unwrap_or(0),
            )
        })
    }

    /// Deletes events older than `cutoff_ms`, and all but the newest `keep`; returns how many.
    pub async fn prune_events(&self, cutoff_ms: i64, keep: i64) -> Result<u64, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done = sqlx::query(
                "DELETE FROM events WHERE at_ms < $1 \
                 OR id <= (SELECT COALESCE(MAX(id), 0) FROM events) - $2",
            )
            .bind(cutoff_ms)
            .bind(keep)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// A dedicated PostgreSQL connection listening on [`EVENTS_CHANNEL`]; `None` on SQLite.
    pub async fn event_listener(&self) -> Result<Option<PgListener>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(None),
            Pool::Postgres(pool) => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(EVENTS_CHANNEL).await?;
                Ok(Some(listener))
            }
        }
    }

    /// Number of runs of `job_id` still `running`.
    pub async fn running_count(&self, job_id: &str) -> Result<i64, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM runs WHERE job_id = $1 AND status = 'running'",
            )
            .bind(job_id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Records a manual trigger of `job_id` at the database's current instant; returns the
    /// tick's instant. Two triggers in the same millisecond are one.
    pub async fn insert_trigger(&self, job_id: &str) -> Result<i64, StoreError> {
        let insert = sql!(
            "INSERT INTO manual_triggers (job_id, scheduled_at_ms) SELECT id, ",
            now,
            " FROM jobs WHERE id = $1 \
             ON CONFLICT (job_id, scheduled_at_ms) DO UPDATE SET job_id = excluded.job_id \
             RETURNING scheduled_at_ms"
        );
        on_pool!(self, |pool, backend| {
            sqlx::query_scalar(insert.get(backend))
                .bind(job_id)
                .fetch_optional(pool)
                .await?
                .ok_or_else(|| StoreError::JobNotFound(job_id.to_string()))
        })
    }

    /// Manual triggers of the jobs `instance` owns, oldest first.
    pub async fn owned_triggers(&self, instance: &str) -> Result<Vec<PendingTrigger>, StoreError> {
        let select = sql!(
            "SELECT t.id AS trigger_id, t.scheduled_at_ms AS trigger_at_ms, ",
            "j.id, j.name, j.schedule, j.timezone, j.plugin, j.input, j.config, j.paused, \
             j.overlap, j.misfire, j.catchup_window_ms, j.jitter_ms, j.timeout_ms, \
             j.memory_limit_bytes, j.allowed_hosts, j.owner, j.epoch, j.version, j.anchor_ms, \
             j.created_at_ms, j.updated_at_ms",
            " FROM manual_triggers t JOIN jobs j ON j.id = t.job_id \
             WHERE j.owner = $1 ORDER BY t.id LIMIT 100"
        );
        on_pool!(self, |pool, backend| {
            let rows = sqlx::query(select.get(backend))
                .bind(instance)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                use sqlx::{FromRow, Row};
                let id: i64 = row.try_get("trigger_id")?;
                let scheduled_at_ms: i64 = row.try_get("trigger_at_ms")?;
                let job = Job::try_from(JobRow::from_row(&row)?)?;
                out.push(PendingTrigger {
                    id,
                    scheduled_at_ms,
                    job,
                });
            }
            Ok(out)
        })
    }

    /// Removes a trigger (taken, or expired).
    pub async fn delete_trigger(&self, id: i64) -> Result<(), StoreError> {
        on_pool!(self, |pool, _backend| {
            sqlx::query("DELETE FROM manual_triggers WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Removes triggers older than `cutoff_ms` that no owner took; returns how many.
    pub async fn expire_triggers(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done = sqlx::query("DELETE FROM manual_triggers WHERE scheduled_at_ms < $1")
                .bind(cutoff_ms)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}
