//! The alert outbox: enqueue once by key, claim with a lease, settle under the claim.

use super::{SqlEngine, Stmt};
use crate::store::alerts::{AlertDelivery, AlertOutcome, ClaimedAlert, NewAlert};
use crate::store::error::StoreError;

/// An `alert_claimed` row: (id, claim, event, target, body, attempts, created).
pub(super) type ClaimedRow = (i64, i64, String, String, String, i32, i64);

/// An `alerts_recent` row.
pub(super) type RecentRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    i32,
    Option<String>,
    i64,
    i64,
    Option<i64>,
);

pub(super) async fn enqueue<E: SqlEngine>(
    engine: &E,
    alert: &NewAlert,
) -> Result<bool, StoreError> {
    let written = Stmt::new(E::SQL.alert_insert)
        .bind(alert.dedup_key.as_str())
        .bind(alert.event.as_str())
        .bind(alert.job_id.as_deref().unwrap_or(""))
        .bind(alert.job_name.as_deref())
        .bind(alert.target.as_str())
        .bind(alert.host.as_str())
        .bind(alert.body.as_str())
        .execute(engine.on())
        .await?;
    Ok(written > 0)
}

/// Claims row by row: each claim is one conditional update, so two replicas racing for the
/// same row cannot both win it, whatever the engine's isolation.
pub(super) async fn claim<E: SqlEngine>(
    engine: &E,
    holder: &str,
    lease_ms: i64,
    dead_after_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedAlert>, StoreError> {
    let heads: Vec<i64> = Stmt::new(E::SQL.alert_heads)
        .bind(dead_after_ms)
        .bind(limit)
        .scalars(engine.on())
        .await?;
    let mut claimed = Vec::with_capacity(heads.len());
    for id in heads {
        let won = Stmt::new(E::SQL.alert_claim)
            .bind(holder)
            .bind(lease_ms)
            .bind(id)
            .bind(dead_after_ms)
            .execute(engine.on())
            .await?;
        if won == 0 {
            continue;
        }
        let row: Option<ClaimedRow> = Stmt::new(E::SQL.alert_claimed)
            .bind(id)
            .bind(holder)
            .fetch_optional(engine.on())
            .await?;
        if let Some((id, claim, event, target, body, attempts, created_at_ms)) = row {
            claimed.push(ClaimedAlert {
                id,
                claim,
                event,
                target,
                body,
                attempts,
                created_at_ms,
            });
        }
    }
    Ok(claimed)
}

pub(super) async fn settle<E: SqlEngine>(
    engine: &E,
    id: i64,
    claim: i64,
    outcome: &AlertOutcome,
) -> Result<bool, StoreError> {
    let stmt = match outcome {
        AlertOutcome::Delivered => Stmt::new(E::SQL.alert_delivered),
        AlertOutcome::Retry { error, delay_ms } => Stmt::new(E::SQL.alert_retry)
            .bind(error.as_str())
            .bind(*delay_ms),
        AlertOutcome::GiveUp { error } => Stmt::new(E::SQL.alert_give_up).bind(error.as_str()),
    };
    let settled = stmt.bind(id).bind(claim).execute(engine.on()).await?;
    Ok(settled > 0)
}

pub(super) async fn recent<E: SqlEngine>(
    engine: &E,
    limit: i64,
) -> Result<Vec<AlertDelivery>, StoreError> {
    let rows: Vec<RecentRow> = Stmt::new(E::SQL.alerts_recent)
        .bind(limit)
        .fetch_all(engine.on())
        .await?;
    rows.into_iter()
        .map(
            |(
                id,
                event,
                job_key,
                job_name,
                host,
                state,
                attempts,
                last_error,
                created,
                next,
                done,
            )| {
                Ok(AlertDelivery {
                    id,
                    event,
                    job_id: (!job_key.is_empty()).then_some(job_key),
                    job_name,
                    host,
                    state: state.parse().map_err(|detail| StoreError::Corrupt {
                        what: "alert state",
                        detail,
                    })?,
                    attempts,
                    last_error,
                    created_at_ms: created,
                    next_at_ms: next,
                    done_at_ms: done,
                })
            },
        )
        .collect()
}

pub(super) async fn prune<E: SqlEngine>(engine: &E, cutoff_ms: i64) -> Result<u64, StoreError> {
    Ok(Stmt::new(E::SQL.prune_alerts)
        .bind(cutoff_ms)
        .execute(engine.on())
        .await?)
}
