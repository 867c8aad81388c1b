//! PostgreSQL's batches: one statement over bound arrays (`UNNEST`) where the shared
//! executors would run a transaction of single statements. Each element gets the same
//! ownership check as a single one, and `FOR SHARE OF j` makes an ownership change wait for
//! the write.

use std::collections::{HashMap, HashSet};

use sqlx::Postgres;

use super::PostgresDriver;
use crate::store::driver::FinishRow;
use crate::store::error::StoreError;
use crate::store::model::{BeginRun, Finished, NewRun, RunReason, RunStatus};
use crate::store::sql::{self, Held};

/// Starts a batch of ticks: the check and insert of the catalogue's `begin_run` for every
/// element of the bound arrays.
const BEGIN_MANY: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
     instance_id, epoch, plugin_digest, started_at_ms) \
     SELECT j.id, b.scheduled_at_ms, 'running', b.attempt, b.catch_up, b.manual, \
     b.instance_id, b.epoch, b.plugin_digest, t.ms \
     FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int4[], \
     $7::bool[], $8::bool[]) \
     AS b(job_id, scheduled_at_ms, instance_id, epoch, plugin_digest, attempt, catch_up, manual) \
     JOIN jobs j ON j.id = b.job_id AND j.owner = b.instance_id AND j.epoch = b.epoch \
     CROSS JOIN (SELECT ",
    now_ms!(),
    " AS ms) t ORDER BY b.job_id, b.scheduled_at_ms FOR SHARE OF j \
     ON CONFLICT (job_id, scheduled_at_ms, attempt) DO NOTHING \
     RETURNING id, job_id, scheduled_at_ms, instance_id, epoch"
);

/// Which of a batch of ticks already have a run.
const RECORDED_AMONG: &str = "SELECT r.job_id, r.scheduled_at_ms FROM runs r \
     JOIN UNNEST($1::text[], $2::bigint[]) AS k(job_id, scheduled_at_ms) \
     ON r.job_id = k.job_id AND r.scheduled_at_ms = k.scheduled_at_ms";

/// Finishes a batch of runs, each under the conditions of the catalogue's `finish_run`.
const FINISH_MANY: &str = concat!(
    "UPDATE runs r SET status = b.status, result = b.result, error = b.error, logs = b.logs, \
     finished_at_ms = t.ms, duration_ms = t.ms - r.started_at_ms \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) \
     AS b(id, epoch, status, result, error, logs), jobs j, (SELECT ",
    now_ms!(),
    " AS ms) t \
     WHERE r.id = b.id AND r.status = 'running' AND r.epoch = b.epoch \
     AND j.id = r.job_id AND j.epoch = b.epoch \
     RETURNING r.id, b.epoch"
);

/// Records skipped/missed ticks of one job if the caller owns it.
const RECORD_TICKS: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, \
     instance_id, epoch, finished_at_ms) \
     SELECT j.id, b.scheduled_at_ms, b.status, b.reason, 1, FALSE, FALSE, $2, $3, t.ms \
     FROM UNNEST($4::bigint[], $5::text[], $6::text[]) AS b(scheduled_at_ms, status, reason) \
     JOIN jobs j ON j.id = $1 AND j.owner = $2 AND j.epoch = $3 \
     CROSS JOIN (SELECT ",
    now_ms!(),
    " AS ms) t FOR SHARE OF j \
     ON CONFLICT (job_id, scheduled_at_ms, attempt) DO NOTHING"
);

/// Hands a batch of jobs from `$1` to `$2`, each only if still owned by `$1` under the given
/// epoch.
const HAND_OVER: &str = "UPDATE jobs j SET owner = $2, epoch = j.epoch + 1 \
     FROM UNNEST($3::text[], $4::bigint[]) AS b(id, epoch) \
     WHERE j.id = b.id AND j.epoch = b.epoch AND j.owner = $1 RETURNING j.id";

pub(super) async fn begin_many(
    conn: &mut Held<'_, Postgres>,
    runs: &[NewRun],
) -> Result<Vec<BeginRun>, StoreError> {
    let job_ids: Vec<&str> = runs.iter().map(|r| r.job_id.as_str()).collect();
    let scheduled: Vec<i64> = runs.iter().map(|r| r.scheduled_at_ms).collect();
    let instances: Vec<&str> = runs.iter().map(|r| r.instance_id.as_str()).collect();
    let epochs: Vec<i64> = runs.iter().map(|r| r.epoch).collect();
    let digests: Vec<Option<&str>> = runs.iter().map(|r| r.plugin_digest.as_deref()).collect();
    let attempts: Vec<i32> = runs.iter().map(|r| r.attempt).collect();
    let catch_ups: Vec<bool> = runs.iter().map(|r| r.catch_up).collect();
    let manuals: Vec<bool> = runs.iter().map(|r| r.manual).collect();
    let started: Vec<(i64, String, i64, String, i64)> = sqlx::query_as(BEGIN_MANY)
        .bind(&job_ids)
        .bind(&scheduled)
        .bind(instances)
        .bind(epochs)
        .bind(digests)
        .bind(attempts)
        .bind(catch_ups)
        .bind(manuals)
        .persistent(!conn.unnamed)
        .fetch_all(&mut *conn.conn)
        .await?;
    // Keyed by the whole claim (tick, instance, epoch): only an element that passed the
    // ownership check can have inserted the row; its first occurrence gets the run id.
    let mut started: HashMap<(String, i64, String, i64), i64> = started
        .into_iter()
        .map(|(id, job_id, at, instance, epoch)| ((job_id, at, instance, epoch), id))
        .collect();
    let mut answers: Vec<Option<BeginRun>> = runs
        .iter()
        .map(|r| {
            let key = (
                r.job_id.clone(),
                r.scheduled_at_ms,
                r.instance_id.clone(),
                r.epoch,
            );
            started.remove(&key).map(BeginRun::Started)
        })
        .collect();
    let unresolved: Vec<usize> = (0..runs.len()).filter(|&i| answers[i].is_none()).collect();
    if !unresolved.is_empty() {
        let recorded: Vec<(String, i64)> = sqlx::query_as(RECORDED_AMONG)
            .bind(unresolved.iter().map(|&i| job_ids[i]).collect::<Vec<_>>())
            .bind(unresolved.iter().map(|&i| scheduled[i]).collect::<Vec<_>>())
            .persistent(!conn.unnamed)
            .fetch_all(&mut *conn.conn)
            .await?;
        let recorded: HashSet<(String, i64)> = recorded.into_iter().collect();
        for i in unresolved {
            let key = (runs[i].job_id.clone(), runs[i].scheduled_at_ms);
            answers[i] = Some(if recorded.contains(&key) {
                BeginRun::AlreadyRecorded
            } else {
                BeginRun::Fenced
            });
        }
    }
    Ok(answers
        .into_iter()
        .map(|a| a.unwrap_or(BeginRun::Fenced))
        .collect())
}

pub(super) async fn finish_many(
    conn: &mut Held<'_, Postgres>,
    finishes: &[FinishRow],
) -> Result<Vec<Finished>, StoreError> {
    let ids: Vec<i64> = finishes.iter().map(|f| f.run_id).collect();
    let epochs: Vec<i64> = finishes.iter().map(|f| f.epoch).collect();
    let statuses: Vec<&str> = finishes.iter().map(|f| f.status.as_str()).collect();
    let results: Vec<Option<&str>> = finishes.iter().map(|f| f.result.as_deref()).collect();
    let errors: Vec<Option<&str>> = finishes.iter().map(|f| f.error.as_deref()).collect();
    let logs: Vec<Option<&str>> = finishes.iter().map(|f| f.logs.as_deref()).collect();
    let finished: Vec<(i64, i64)> = sqlx::query_as(FINISH_MANY)
        .bind(ids)
        .bind(epochs)
        .bind(statuses)
        .bind(results)
        .bind(errors)
        .bind(logs)
        .persistent(!conn.unnamed)
        .fetch_all(&mut *conn.conn)
        .await?;
    // Keyed by (run, epoch): only the element whose epoch matched finished the run.
    let mut finished: HashSet<(i64, i64)> = finished.into_iter().collect();
    Ok(finishes
        .iter()
        .map(|f| {
            if finished.remove(&(f.run_id, f.epoch)) {
                Finished::Ok
            } else {
                Finished::Fenced
            }
        })
        .collect())
}

pub(super) async fn record_ticks(
    conn: &mut Held<'_, Postgres>,
    job_id: &str,
    instance: &str,
    epoch: i64,
    ticks: &[(i64, RunStatus, RunReason)],
) -> Result<bool, StoreError> {
    let scheduled: Vec<i64> = ticks.iter().map(|t| t.0).collect();
    let statuses: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
    let reasons: Vec<&str> = ticks.iter().map(|t| t.2.as_str()).collect();
    let done = sqlx::query(RECORD_TICKS)
        .bind(job_id)
        .bind(instance)
        .bind(epoch)
        .bind(scheduled)
        .bind(statuses)
        .bind(reasons)
        .persistent(!conn.unnamed)
        .execute(&mut *conn.conn)
        .await?;
    if done.rows_affected() > 0 {
        return Ok(true);
    }
    // Nothing inserted: every tick was recorded already, or the caller was fenced.
    sql::owns::<PostgresDriver>(conn.on(), job_id, instance, epoch).await
}

pub(super) async fn hand_over(
    conn: &mut Held<'_, Postgres>,
    from: &str,
    to: &str,
    jobs: &[(String, i64)],
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<&str> = jobs.iter().map(|(id, _)| id.as_str()).collect();
    let epochs: Vec<i64> = jobs.iter().map(|(_, e)| *e).collect();
    Ok(sqlx::query_scalar(HAND_OVER)
        .bind(from)
        .bind(to)
        .bind(ids)
        .bind(epochs)
        .persistent(!conn.unnamed)
        .fetch_all(&mut *conn.conn)
        .await?)
}
