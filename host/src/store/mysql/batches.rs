//! The run ledger's batches on MySQL/MariaDB: each a transaction of a few statements over one
//! JSON parameter (`JSON_TABLE`), whatever the batch's size, where the shared executors would
//! run one statement per run. Each element gets the same ownership check as a single one.
//!
//! A multi-row insert cannot say which of its rows it inserted (no `RETURNING`, and the ids of
//! an `INSERT … SELECT` need not be consecutive), so a batch of starts first locks the jobs'
//! rows `FOR UPDATE`, in id order: every other start of those jobs' ticks (which locks the
//! job's row too) waits until it commits, so the ticks it reads as unrecorded are the ones it
//! inserts, and it reads their ids back by key. A batch of finishes locks the runs it may
//! finish, so those it reads as finished afterwards are the ones it finished.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::mysql::MySqlPool;

use crate::store::driver::FinishRow;
use crate::store::error::StoreError;
use crate::store::model::{BeginRun, Finished, NewRun, RunReason, RunStatus};
use crate::store::rows::to_json_text as json_text;

/// `JSON_TABLE` columns of `[job id, tick]` pairs.
macro_rules! tick_keys {
    () => {
        concat!(
            "JSON_TABLE(?, '$[*]' COLUMNS (job_id ",
            json_text_column!(),
            " PATH '$[0]', at BIGINT PATH '$[1]')) k"
        )
    };
}

/// The jobs of a batch, locked in id order: `(id, owner, epoch)`.
const LOCK_JOBS: &str = concat!(
    "SELECT id, owner, epoch FROM jobs WHERE id IN ",
    json_ids!(),
    " ORDER BY id FOR UPDATE"
);

/// The runs of some `(job, tick)` keys: `(id, job, tick)`.
/// Through the `(job, tick, attempt)` key, named: while `runs` grows, MariaDB's statistics
/// can rate the index on the tick alone as good, and a burst's ticks are all the same instant,
/// so each key then read every run of that tick (at 2,000 jobs due at once, some 1,800 rows a
/// key and 300,000 a statement: the replica fell behind).
const RUNS_OF: &str = concat!(
    "SELECT r.id, r.job_id, r.scheduled_at_ms FROM runs r \
     FORCE INDEX (runs_by_job_tick_attempt) JOIN ",
    tick_keys!(),
    " ON r.job_id = k.job_id AND r.scheduled_at_ms = k.at"
);

/// Inserts the `running` rows of the starts that passed the checks.
const INSERT_STARTS: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
     instance_id, epoch, plugin_digest, started_at_ms) \
     SELECT b.job_id, b.at, 'running', b.attempt, b.catch_up, b.manual, b.instance_id, \
     b.epoch, b.digest, ",
    now_ms!(),
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (job_id ",
    json_text_column!(),
    " PATH '$.j', at BIGINT PATH '$.t', attempt INT PATH '$.a', \
     catch_up BOOLEAN PATH '$.c', manual BOOLEAN PATH '$.m', instance_id ",
    json_text_column!(),
    " PATH '$.i', epoch BIGINT PATH '$.e', digest ",
    json_text_column!(),
    " PATH '$.d')) b"
);

/// Locks the runs of a batch of finishes that are running under the given epoch:
/// `(id, epoch)`.
/// The jobs of the runs of a batch of `[run id, epoch]`, share-locked in id order before the
/// runs: a batch of starts locks the same rows (exclusively) in the same order, so the two
/// wait for each other but never deadlock (the `jobs` rows that `FINISH` reads are locked in
/// join order otherwise).
const LOCK_JOBS_OF_RUNS: &str = "SELECT j.id FROM jobs j WHERE j.id IN (SELECT r.job_id FROM \
     runs r JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$[0]')) b ON r.id = b.id) \
     ORDER BY j.id LOCK IN SHARE MODE";

const LOCK_RUNNING: &str = "SELECT r.id, r.epoch FROM runs r JOIN JSON_TABLE(?, '$[*]' COLUMNS \
     (id BIGINT PATH '$[0]', epoch BIGINT PATH '$[1]')) b ON r.id = b.id AND r.epoch = b.epoch \
     WHERE r.status = 'running' FOR UPDATE";

/// Finishes the runs whose job is still at the run's epoch (the catalogue's `finish_run`
/// conditions). A multi-table UPDATE: its assignments may run in any order, none reads another.
const FINISH: &str = concat!(
    "UPDATE runs r JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$.r', \
     epoch BIGINT PATH '$.e', status VARCHAR(16) PATH '$.s', result MEDIUMTEXT ",
    text_charset!(),
    " PATH '$.o', error MEDIUMTEXT ",
    text_charset!(),
    " PATH '$.x', logs MEDIUMTEXT ",
    text_charset!(),
    " PATH '$.l')) b ON r.id = b.id JOIN jobs j ON j.id = r.job_id \
     SET r.status = b.status, r.result = b.result, r.error = b.error, r.logs = b.logs, \
     r.finished_at_ms = ",
    now_ms!(),
    ", r.duration_ms = ",
    now_ms!(),
    " - r.started_at_ms \
     WHERE r.status = 'running' AND r.epoch = b.epoch AND j.epoch = b.epoch"
);

/// Which of some runs are no longer running: `(id)`.
const ENDED: &str = "SELECT r.id FROM runs r JOIN JSON_TABLE(?, '$[*]' COLUMNS \
     (id BIGINT PATH '$')) b ON r.id = b.id WHERE r.status <> 'running'";

/// Records skipped/missed ticks of one job, leaving recorded ticks alone: (job, instance,
/// epoch, `[[tick, status, reason], …]`).
const RECORD_TICKS: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, \
     instance_id, epoch, finished_at_ms) \
     SELECT ?, b.at, b.st, b.rs, 1, FALSE, FALSE, ?, ?, ",
    now_ms!(),
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (at BIGINT PATH '$[0]', st VARCHAR(16) PATH '$[1]', \
     rs VARCHAR(64) PATH '$[2]')) b ON DUPLICATE KEY UPDATE runs.id = runs.id"
);

pub(super) async fn begin_many(
    pool: &MySqlPool,
    runs: &[NewRun],
) -> Result<Vec<BeginRun>, StoreError> {
    let mut job_ids: Vec<&str> = runs.iter().map(|r| r.job_id.as_str()).collect();
    job_ids.sort_unstable();
    job_ids.dedup();
    let keys = json!(
        runs.iter()
            .map(|r| json!([r.job_id, r.scheduled_at_ms]))
            .collect::<Vec<_>>()
    )
    .to_string();

    let mut tx = pool.begin().await?;
    let owners: Vec<(String, Option<String>, i64)> = sqlx::query_as(LOCK_JOBS)
        .bind(json_text(&job_ids))
        .fetch_all(&mut *tx)
        .await?;
    let owners: HashMap<String, (Option<String>, i64)> = owners
        .into_iter()
        .map(|(id, owner, epoch)| (id, (owner, epoch)))
        .collect();
    let before: Vec<(i64, String, i64)> = sqlx::query_as(RUNS_OF)
        .bind(keys.as_str())
        .fetch_all(&mut *tx)
        .await?;
    let mut recorded: HashSet<(String, i64)> =
        before.into_iter().map(|(_, job, at)| (job, at)).collect();

    // The starts to insert: owned, unrecorded, the first of their tick in the batch.
    let owns = |r: &NewRun| {
        owners.get(&r.job_id).is_some_and(|(owner, epoch)| {
            owner.as_deref() == Some(&r.instance_id) && *epoch == r.epoch
        })
    };
    let mut starts = Vec::new();
    let mut starting = vec![false; runs.len()];
    for (i, run) in runs.iter().enumerate() {
        if owns(run) && recorded.insert((run.job_id.clone(), run.scheduled_at_ms)) {
            starting[i] = true;
            starts.push(start_json(run));
        }
    }
    let mut ids: HashMap<(String, i64), i64> = HashMap::new();
    if !starts.is_empty() {
        sqlx::query(INSERT_STARTS)
            .bind(json!(starts).to_string())
            .execute(&mut *tx)
            .await?;
        let started = json!(
            runs.iter()
                .zip(&starting)
                .filter(|(_, s)| **s)
                .map(|(r, _)| json!([r.job_id, r.scheduled_at_ms]))
                .collect::<Vec<_>>()
        );
        let inserted: Vec<(i64, String, i64)> = sqlx::query_as(RUNS_OF)
            .bind(started.to_string())
            .fetch_all(&mut *tx)
            .await?;
        ids = inserted
            .into_iter()
            .map(|(id, job, at)| ((job, at), id))
            .collect();
    }
    tx.commit().await?;

    Ok(runs
        .iter()
        .zip(starting)
        .map(|(run, started)| {
            let key = (run.job_id.clone(), run.scheduled_at_ms);
            match (started, ids.get(&key)) {
                (true, Some(id)) => BeginRun::Started(*id),
                _ if recorded.contains(&key) => BeginRun::AlreadyRecorded,
                _ => BeginRun::Fenced,
            }
        })
        .collect())
}

/// One start as `INSERT_STARTS` reads it (booleans as 0/1; no digest: no key).
fn start_json(run: &NewRun) -> serde_json::Value {
    let mut start = json!({
        "j": run.job_id,
        "t": run.scheduled_at_ms,
        "a": run.attempt,
        "c": i32::from(run.catch_up),
        "m": i32::from(run.manual),
        "i": run.instance_id,
        "e": run.epoch,
    });
    if let Some(digest) = &run.plugin_digest {
        start["d"] = json!(digest);
    }
    start
}

pub(super) async fn finish_many(
    pool: &MySqlPool,
    finishes: &[FinishRow],
) -> Result<Vec<Finished>, StoreError> {
    let mut tx = pool.begin().await?;
    let claims = json!(
        finishes
            .iter()
            .map(|f| json!([f.run_id, f.epoch]))
            .collect::<Vec<_>>()
    );
    let _: Vec<String> = sqlx::query_scalar(LOCK_JOBS_OF_RUNS)
        .bind(claims.to_string())
        .fetch_all(&mut *tx)
        .await?;
    let running: HashMap<i64, i64> = sqlx::query_as(LOCK_RUNNING)
        .bind(claims.to_string())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let mut finished: HashSet<(i64, i64)> = HashSet::new();
    if !running.is_empty() {
        let rows: Vec<serde_json::Value> = finishes
            .iter()
            .filter(|f| running.get(&f.run_id) == Some(&f.epoch))
            .map(finish_json)
            .collect();
        sqlx::query(FINISH)
            .bind(json!(rows).to_string())
            .execute(&mut *tx)
            .await?;
        let locked: Vec<i64> = running.keys().copied().collect();
        let ended: Vec<i64> = sqlx::query_scalar(ENDED)
            .bind(json_text(&locked))
            .fetch_all(&mut *tx)
            .await?;
        // Locked while running: whatever ended, this batch ended, under the run's epoch.
        finished = ended.into_iter().map(|id| (id, running[&id])).collect();
    }
    tx.commit().await?;

    // Keyed by (run, epoch) as on PostgreSQL: the first element whose epoch was the run's.
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

/// One finish as `FINISH` reads it (absent texts stay NULL: no key).
fn finish_json(finish: &FinishRow) -> serde_json::Value {
    let mut row = json!({
        "r": finish.run_id,
        "e": finish.epoch,
        "s": finish.status.as_str(),
    });
    for (key, text) in [
        ("o", &finish.result),
        ("x", &finish.error),
        ("l", &finish.logs),
    ] {
        if let Some(text) = text {
            row[key] = json!(text);
        }
    }
    row
}

/// Checks ownership (locking the job's row until commit), then records every tick in one
/// statement.
pub(super) async fn record_ticks(
    pool: &MySqlPool,
    job_id: &str,
    instance: &str,
    epoch: i64,
    ticks: &[(i64, RunStatus, RunReason)],
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    if !crate::store::sql::owns::<super::MysqlDriver>(&mut *tx, job_id, instance, epoch).await? {
        return Ok(false);
    }
    let rows = json!(
        ticks
            .iter()
            .map(|(at, status, reason)| json!([at, status.as_str(), reason.as_str()]))
            .collect::<Vec<_>>()
    );
    sqlx::query(RECORD_TICKS)
        .bind(job_id)
        .bind(instance)
        .bind(epoch)
        .bind(rows.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
