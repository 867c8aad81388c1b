//! The audit log.

use super::{SqlEngine, Stmt};
use crate::store::audit::{AuditEntry, AuditFilter, AuditPage, NewAudit};
use crate::store::error::StoreError;

/// `(id, at, actor, action, job id, target, before, after)` of an audit row.
pub(crate) type AuditRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

pub(super) async fn record<E: SqlEngine>(engine: &E, entry: &NewAudit) -> Result<(), StoreError> {
    let before = entry.before.as_ref().map(|v| v.to_string());
    let after = entry.after.as_ref().map(|v| v.to_string());
    Stmt::new(E::SQL.audit_insert)
        .bind(entry.actor.as_str())
        .bind(entry.action.as_str())
        .bind(entry.job_id.as_deref())
        .bind(entry.target.as_str())
        .bind(before.as_deref())
        .bind(after.as_deref())
        .execute(engine.on())
        .await?;
    Ok(())
}

/// Entries of one multi-row insert.
const INSERT_ROWS: usize = 500;

/// Records `entries` in order in one write transaction, a multi-row statement per
/// [`INSERT_ROWS`], at the database's instant read at its start.
pub(super) async fn record_many<E: SqlEngine>(
    engine: &E,
    entries: &[NewAudit],
) -> Result<(), StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let now: i64 = Stmt::<E::Db>::new(E::SQL.now).scalar(held.on()).await?;
    for chunk in entries.chunks(INSERT_ROWS) {
        let mut stmt = Stmt::<E::Db>::new(
            "INSERT INTO audit_log (at_ms, actor, action, job_id, target, before_json, \
             after_json) VALUES ",
        );
        let text = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
        let texts: Vec<(Option<String>, Option<String>)> = chunk
            .iter()
            .map(|e| (text(&e.before), text(&e.after)))
            .collect();
        for (i, (entry, (before, after))) in chunk.iter().zip(&texts).enumerate() {
            stmt = stmt
                .push(if i == 0 { "(" } else { ", (" })
                .push_bind(now)
                .push(", ")
                .push_bind(entry.actor.as_str())
                .push(", ")
                .push_bind(entry.action.as_str())
                .push(", ")
                .push_bind(entry.job_id.as_deref())
                .push(", ")
                .push_bind(entry.target.as_str())
                .push(", ")
                .push_bind(before.as_deref())
                .push(", ")
                .push_bind(after.as_deref())
                .push(")");
        }
        stmt.execute(held.on()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A listing with only the conditions in use, assembled like the run listing: plain SQL every
/// engine reads alike, placeholders written in the engine's style as the values are bound.
pub(super) async fn list<E: SqlEngine>(
    engine: &E,
    filter: &AuditFilter,
    page: &AuditPage,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut sql = Stmt::<E::Db>::new(
        "SELECT id, at_ms, actor, action, job_id, target, before_json, after_json \
         FROM audit_log WHERE TRUE",
    );
    if let Some(job) = &filter.job {
        sql = sql
            .push(" AND (job_id = ")
            .push_bind(job.as_str())
            .push(" OR (job_id IS NOT NULL AND target = ")
            .push_bind(job.as_str())
            .push("))");
    }
    if let Some(actor) = &filter.actor {
        sql = sql.push(" AND actor = ").push_bind(actor.as_str());
    }
    if let Some(before) = page.before {
        sql = sql.push(" AND id < ").push_bind(before);
    }
    let rows: Vec<AuditRow> = sql
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(page.limit.max(0))
        .fetch_all(engine.on())
        .await?;
    rows.into_iter().map(entry).collect()
}

fn entry(row: AuditRow) -> Result<AuditEntry, StoreError> {
    let (id, at_ms, actor, action, job_id, target, before, after) = row;
    let json = |text: Option<String>| {
        text.map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt {
                what: "audit entry",
                detail: format!("{id}: {e}"),
            })
    };
    Ok(AuditEntry {
        id,
        at_ms,
        actor,
        action: action.parse().map_err(|detail| StoreError::Corrupt {
            what: "audit action",
            detail,
        })?,
        job_id,
        target,
        before: json(before)?,
        after: json(after)?,
    })
}

pub(super) async fn prune<E: SqlEngine>(engine: &E, cutoff_ms: i64) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.prune_audit)
        .bind(cutoff_ms)
        .execute(engine.on())
        .await?)
}
