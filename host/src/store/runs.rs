//! Runs: the per-tick record that makes each tick run at most once.
//!
//! A tick is started by inserting its `(job_id, scheduled_at_ms)` row as `running`, in one
//! statement that also checks that the caller still owns the job under its epoch; the unique
//! key makes a second start of the same tick a no-op, wherever it comes from. Finishing,
//! recording skipped/missed ticks and abandoning are fenced the same way. Batch variants do a
//! whole batch in one statement (PostgreSQL, with `UNNEST`) or one transaction (SQLite).

use std::collections::{HashMap, HashSet};

use sqlx::AssertSqlSafe;

use super::error::StoreError;
use super::model::{
    BeginRun, FinishRun, Finished, NewRun, Run, RunFilter, RunPage, RunReason, RunStatus,
};
use super::rows::{RunRow, runs_from_rows};
use super::text::{ERROR_LIMIT_BYTES, LOGS_LIMIT_BYTES, RESULT_LIMIT_BYTES, bounded};
use super::{Pool, Store};

/// Most runs one retention statement deletes.
pub const RETENTION_BATCH: i64 = 5_000;

/// Error text of a run that lost its owner mid-run.
const ABANDONED_ERROR: &str = "the replica running it lost ownership of the job before it finished";

/// Starts one tick if the caller owns the job under its epoch; `$1..$8` as in [`NewRun`].
const BEGIN_ONE: super::sql::Sql = sql!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
     instance_id, epoch, plugin_digest, started_at_ms) \
     SELECT j.id, $2, 'running', $6, $7, $8, $3, $4, $5, ",
    now,
    " FROM jobs j WHERE j.id = $1 AND j.owner = $3 AND j.epoch = $4",
    pg_for_share_of_j,
    " ON CONFLICT (job_id, scheduled_at_ms) DO NOTHING RETURNING id"
);

/// Starts a batch of ticks (PostgreSQL): the same check and insert as [`BEGIN_ONE`] for every
/// element of the bound arrays.
const BEGIN_MANY_PG: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, attempt, catch_up, manual, \
     instance_id, epoch, plugin_digest, started_at_ms) \
     SELECT j.id, b.scheduled_at_ms, 'running', b.attempt, b.catch_up, b.manual, \
     b.instance_id, b.epoch, b.plugin_digest, t.ms \
     FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int4[], \
     $7::bool[], $8::bool[]) \
     AS b(job_id, scheduled_at_ms, instance_id, epoch, plugin_digest, attempt, catch_up, manual) \
     JOIN jobs j ON j.id = b.job_id AND j.owner = b.instance_id AND j.epoch = b.epoch \
     CROSS JOIN (SELECT ",
    postgres_now_ms!(),
    " AS ms) t ORDER BY b.job_id, b.scheduled_at_ms FOR SHARE OF j \
     ON CONFLICT (job_id, scheduled_at_ms) DO NOTHING \
     RETURNING id, job_id, scheduled_at_ms, instance_id, epoch"
);

/// Which of a batch of ticks already have a run (PostgreSQL).
const RECORDED_AMONG_PG: &str = "SELECT r.job_id, r.scheduled_at_ms FROM runs r \
     JOIN UNNEST($1::text[], $2::bigint[]) AS k(job_id, scheduled_at_ms) \
     ON r.job_id = k.job_id AND r.scheduled_at_ms = k.scheduled_at_ms";

/// Whether one tick has a run.
const RECORDED_ONE: &str = "SELECT COUNT(*) FROM runs WHERE job_id = $1 AND scheduled_at_ms = $2";

/// Finishes one run if it is still running under an epoch that is still the job's.
const FINISH_ONE: super::sql::Sql = sql!(
    "UPDATE runs SET status = $3, result = $4, error = $5, logs = $6, \
     finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
     FROM (SELECT ",
    now,
    " AS ms) t WHERE runs.id = $1 AND runs.status = 'running' AND runs.epoch = $2 \
     AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = runs.job_id AND j.epoch = $2)"
);

/// Finishes a batch of runs (PostgreSQL), each under the same conditions as [`FINISH_ONE`].
const FINISH_MANY_PG: &str = concat!(
    "UPDATE runs r SET status = b.status, result = b.result, error = b.error, logs = b.logs, \
     finished_at_ms = t.ms, duration_ms = t.ms - r.started_at_ms \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) \
     AS b(id, epoch, status, result, error, logs), jobs j, (SELECT ",
    postgres_now_ms!(),
    " AS ms) t \
     WHERE r.id = b.id AND r.status = 'running' AND r.epoch = b.epoch \
     AND j.id = r.job_id AND j.epoch = b.epoch \
     RETURNING r.id, b.epoch"
);

/// Records skipped/missed ticks of one job (PostgreSQL) if the caller owns it.
const RECORD_TICKS_PG: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, \
     instance_id, epoch, finished_at_ms) \
     SELECT j.id, b.scheduled_at_ms, b.status, b.reason, 1, FALSE, FALSE, $2, $3, t.ms \
     FROM UNNEST($4::bigint[], $5::text[], $6::text[]) AS b(scheduled_at_ms, status, reason) \
     JOIN jobs j ON j.id = $1 AND j.owner = $2 AND j.epoch = $3 \
     CROSS JOIN (SELECT ",
    postgres_now_ms!(),
    " AS ms) t FOR SHARE OF j \
     ON CONFLICT (job_id, scheduled_at_ms) DO NOTHING"
);

/// Records one skipped/missed tick (SQLite, inside a transaction that checked ownership).
const RECORD_TICK_SQLITE: &str = concat!(
    "INSERT INTO runs (job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, \
     instance_id, epoch, finished_at_ms) \
     VALUES ($1, $4, $5, $6, 1, 0, 0, $2, $3, ",
    sqlite_now_ms!(),
    ") ON CONFLICT (job_id, scheduled_at_ms) DO NOTHING"
);

/// Whether `instance` owns the job under `epoch`.
const OWNS: &str = "SELECT COUNT(*) FROM jobs WHERE id = $1 AND owner = $2 AND epoch = $3";

/// A finish with its text fields already bounded.
struct BoundedFinish<'a> {
    run_id: i64,
    epoch: i64,
    status: &'a str,
    result: Option<String>,
    error: Option<String>,
    logs: Option<String>,
}

impl<'a> BoundedFinish<'a> {
    fn new(run_id: i64, epoch: i64, finish: &'a FinishRun) -> Result<Self, StoreError> {
        if !finish.status.is_final() {
            return Err(StoreError::InvalidInput(format!(
                "run {run_id} cannot finish with status {}",
                finish.status
            )));
        }
        Ok(Self {
            run_id,
            epoch,
            status: finish.status.as_str(),
            result: bounded(finish.result.as_deref(), RESULT_LIMIT_BYTES),
            error: bounded(finish.error.as_deref(), ERROR_LIMIT_BYTES),
            logs: bounded(finish.logs.as_deref(), LOGS_LIMIT_BYTES),
        })
    }
}

impl Store {
    /// Starts one tick with a single insert; see [`BeginRun`]. The start time is the
    /// database's. When nothing was inserted, one more query tells an already recorded tick
    /// from a lost ownership.
    pub async fn begin_run(&self, run: &NewRun) -> Result<BeginRun, StoreError> {
        on_pool!(self, |pool, backend| {
            let started: Option<i64> = sqlx::query_scalar(BEGIN_ONE.get(backend))
                .bind(&run.job_id)
                .bind(run.scheduled_at_ms)
                .bind(&run.instance_id)
                .bind(run.epoch)
                .bind(run.plugin_digest.as_deref())
                .bind(run.attempt)
                .bind(run.catch_up)
                .bind(run.manual)
                .fetch_optional(pool)
                .await?;
            if let Some(id) = started {
                return Ok(BeginRun::Started(id));
            }
            let recorded: i64 = sqlx::query_scalar(RECORDED_ONE)
                .bind(&run.job_id)
                .bind(run.scheduled_at_ms)
                .fetch_one(pool)
                .await?;
            Ok(if recorded > 0 {
                BeginRun::AlreadyRecorded
            } else {
                BeginRun::Fenced
            })
        })
    }

    /// Starts a batch of ticks at once, with the same per-tick guarantee as
    /// [`Store::begin_run`]; the answers are in the order of `runs`. A tick listed twice is
    /// started once (the second answer is [`BeginRun::AlreadyRecorded`]).
    pub async fn begin_runs(&self, runs: &[NewRun]) -> Result<Vec<BeginRun>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        self.bounded(async {
            match &self.pool {
                Pool::Postgres(pool) => begin_runs_postgres(pool, runs).await,
                Pool::Sqlite(pool) => begin_runs_sqlite(pool, runs).await,
            }
        })
        .await
    }

    /// Records the end of run `run_id`, started under `epoch`: only if the run is still
    /// `running` and the job's epoch is still `epoch`. Finish and duration times are the
    /// database's; result and error are cut to 4 KiB, logs to 64 KiB.
    pub async fn finish_run(
        &self,
        run_id: i64,
        epoch: i64,
        finish: &FinishRun,
    ) -> Result<Finished, StoreError> {
        let finish = BoundedFinish::new(run_id, epoch, finish)?;
        on_pool!(self, |pool, backend| {
            let done = sqlx::query(FINISH_ONE.get(backend))
                .bind(finish.run_id)
                .bind(finish.epoch)
                .bind(finish.status)
                .bind(finish.result.as_deref())
                .bind(finish.error.as_deref())
                .bind(finish.logs.as_deref())
                .execute(pool)
                .await?;
            Ok(if done.rows_affected() > 0 {
                Finished::Ok
            } else {
                Finished::Fenced
            })
        })
    }

    /// Records the ends of a batch of runs at once, each as [`Store::finish_run`] would; the
    /// answers are in the order of `finishes`.
    pub async fn finish_runs(
        &self,
        finishes: &[(i64, i64, FinishRun)],
    ) -> Result<Vec<Finished>, StoreError> {
        if finishes.is_empty() {
            return Ok(Vec::new());
        }
        let bounded: Vec<BoundedFinish<'_>> = finishes
            .iter()
            .map(|(run_id, epoch, finish)| BoundedFinish::new(*run_id, *epoch, finish))
            .collect::<Result<_, _>>()?;
        self.bounded(async {
            match &self.pool {
                Pool::Postgres(pool) => finish_runs_postgres(pool, &bounded).await,
                Pool::Sqlite(pool) => finish_runs_sqlite(pool, &bounded).await,
            }
        })
        .await
    }

    /// Records ticks that were not run, `(scheduled_at_ms, skipped|missed, reason)`, for job
    /// `job_id` in one statement, if `instance` still owns it under `epoch`. Ticks that already
    /// have a record are left alone. False (nothing written) when the caller was fenced.
    pub async fn record_ticks(
        &self,
        job_id: &str,
        instance: &str,
        epoch: i64,
        ticks: &[(i64, RunStatus, RunReason)],
    ) -> Result<bool, StoreError> {
        if let Some((_, status, _)) = ticks
            .iter()
            .find(|(_, status, _)| !matches!(status, RunStatus::Skipped | RunStatus::Missed))
        {
            return Err(StoreError::InvalidInput(format!(
                "a tick that was not run is skipped or missed, not {status}"
            )));
        }
        self.bounded(async {
            match &self.pool {
                Pool::Postgres(pool) => {
                    let scheduled: Vec<i64> = ticks.iter().map(|t| t.0).collect();
                    let statuses: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
                    let reasons: Vec<&str> = ticks.iter().map(|t| t.2.as_str()).collect();
                    let done = sqlx::query(RECORD_TICKS_PG)
                        .bind(job_id)
                        .bind(instance)
                        .bind(epoch)
                        .bind(scheduled)
                        .bind(statuses)
                        .bind(reasons)
                        .execute(pool)
                        .await?;
                    if done.rows_affected() > 0 {
                        return Ok(true);
                    }
                    let owns: i64 = sqlx::query_scalar(OWNS)
                        .bind(job_id)
                        .bind(instance)
                        .bind(epoch)
                        .fetch_one(pool)
                        .await?;
                    Ok(owns > 0)
                }
                Pool::Sqlite(pool) => {
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                    let owns: i64 = sqlx::query_scalar(OWNS)
                        .bind(job_id)
                        .bind(instance)
                        .bind(epoch)
                        .fetch_one(&mut *tx)
                        .await?;
                    if owns == 0 {
                        return Ok(false);
                    }
                    for (scheduled_at_ms, status, reason) in ticks {
                        sqlx::query(RECORD_TICK_SQLITE)
                            .bind(job_id)
                            .bind(instance)
                            .bind(epoch)
                            .bind(scheduled_at_ms)
                            .bind(status.as_str())
                            .bind(reason.as_str())
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                }
            }
        })
        .await
    }

    /// The newest scheduled tick of job `job_id` that has a record, manual runs aside. The
    /// catch-up cursor of a job is the later of this and its anchor.
    pub async fn last_tick_ms(&self, job_id: &str) -> Result<Option<i64>, StoreError> {
        on_pool!(self, |pool, _backend| {
            Ok(sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(scheduled_at_ms) FROM runs WHERE job_id = $1 AND NOT manual",
            )
            .bind(job_id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Marks the runs of job `job_id` still `running` under an epoch older than `epoch` as
    /// `failed` (reason `abandoned`): their owner lost the job mid-run. Called by the new
    /// owner on takeover; returns how many.
    pub async fn abandon_runs(&self, job_id: &str, epoch: i64) -> Result<u64, StoreError> {
        let abandon = sql!(
            "UPDATE runs SET status = 'failed', reason = $3, error = COALESCE(error, $4), \
             finished_at_ms = t.ms, duration_ms = t.ms - runs.started_at_ms \
             FROM (SELECT ",
            now,
            " AS ms) t WHERE runs.job_id = $1 AND runs.status = 'running' AND runs.epoch < $2"
        );
        on_pool!(self, |pool, backend| {
            let done = sqlx::query(abandon.get(backend))
                .bind(job_id)
                .bind(epoch)
                .bind(RunReason::Abandoned.as_str())
                .bind(ABANDONED_ERROR)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// Whether the tick `scheduled_at_ms` of `job_id` has its row (run, or not run).
    pub async fn tick_recorded(
        &self,
        job_id: &str,
        scheduled_at_ms: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(self, |pool, _backend| {
            let recorded: i64 = sqlx::query_scalar(RECORDED_ONE)
                .bind(job_id)
                .bind(scheduled_at_ms)
                .fetch_one(pool)
                .await?;
            Ok(recorded > 0)
        })
    }

    /// One run by id.
    pub async fn get_run(&self, run_id: i64) -> Result<Option<Run>, StoreError> {
        let select = sql!("SELECT ", run_columns, " FROM runs WHERE id = $1");
        on_pool!(self, |pool, backend| {
            let row: Option<RunRow> = sqlx::query_as(select.get(backend))
                .bind(run_id)
                .fetch_optional(pool)
                .await?;
            row.map(Run::try_from).transpose()
        })
    }

    /// Runs matching `filter`, newest tick first, one keyset page at a time.
    pub async fn list_runs(
        &self,
        filter: &RunFilter,
        page: &RunPage,
    ) -> Result<Vec<Run>, StoreError> {
        // Only the conditions in use are written out, so each shape gets its own plan.
        let mut sql = String::from(concat!("SELECT ", run_columns!(), " FROM runs WHERE TRUE"));
        let mut next = 0;
        let mut param = || {
            next += 1;
            format!("${next}")
        };
        if filter.job_id.is_some() {
            sql += &format!(" AND job_id = {}", param());
        }
        if filter.status.is_some() {
            sql += &format!(" AND status = {}", param());
        }
        if filter.from_ms.is_some() {
            sql += &format!(" AND scheduled_at_ms >= {}", param());
        }
        if filter.to_ms.is_some() {
            sql += &format!(" AND scheduled_at_ms < {}", param());
        }
        if page.before.is_some() {
            let (at, id) = (param(), param());
            sql +=
                &format!(" AND (scheduled_at_ms < {at} OR (scheduled_at_ms = {at} AND id < {id}))");
        }
        sql += &format!(" ORDER BY scheduled_at_ms DESC, id DESC LIMIT {}", param());
        on_pool!(self, |pool, _backend| {
            let mut query = sqlx::query_as::<_, RunRow>(AssertSqlSafe(sql.clone()));
            if let Some(job_id) = &filter.job_id {
                query = query.bind(job_id);
            }
            if let Some(status) = filter.status {
                query = query.bind(status.as_str());
            }
            if let Some(from) = filter.from_ms {
                query = query.bind(from);
            }
            if let Some(to) = filter.to_ms {
                query = query.bind(to);
            }
            if let Some(cursor) = page.before {
                query = query.bind(cursor.scheduled_at_ms).bind(cursor.id);
            }
            let rows = query.bind(page.limit.max(0)).fetch_all(pool).await?;
            runs_from_rows(rows)
        })
    }

    /// Retention: deletes the finished runs scheduled before `cutoff_ms`, always keeping each
    /// job's newest scheduled (non-manual) run so the catch-up cursor survives. Works in
    /// batches of [`RETENTION_BATCH`] rows so no statement holds locks for long; returns how
    /// many were deleted.
    pub async fn delete_runs_before(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = self.delete_runs_batch(cutoff_ms, RETENTION_BATCH).await?;
            total += deleted;
            if deleted < RETENTION_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// One batch of [`Store::delete_runs_before`]: at most `batch` rows.
    async fn delete_runs_batch(&self, cutoff_ms: i64, batch: i64) -> Result<u64, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done = sqlx::query(
                "DELETE FROM runs WHERE id IN ( \
                   SELECT r.id FROM runs r WHERE r.scheduled_at_ms < $1 AND r.status <> 'running' \
                   AND (r.manual OR EXISTS (SELECT 1 FROM runs n WHERE n.job_id = r.job_id \
                        AND NOT n.manual AND n.scheduled_at_ms > r.scheduled_at_ms)) \
                   LIMIT $2)",
            )
            .bind(cutoff_ms)
            .bind(batch)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }
}

async fn begin_runs_postgres(
    pool: &sqlx::PgPool,
    runs: &[NewRun],
) -> Result<Vec<BeginRun>, StoreError> {
    let job_ids: Vec<&str> = runs.iter().map(|r| r.job_id.as_str()).collect();
    let scheduled: Vec<i64> = runs.iter().map(|r| r.scheduled_at_ms).collect();
    let started: Vec<(i64, String, i64, String, i64)> = sqlx::query_as(BEGIN_MANY_PG)
        .bind(&job_ids)
        .bind(&scheduled)
        .bind(
            runs.iter()
                .map(|r| r.instance_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(runs.iter().map(|r| r.epoch).collect::<Vec<_>>())
        .bind(
            runs.iter()
                .map(|r| r.plugin_digest.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(runs.iter().map(|r| r.attempt).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.catch_up).collect::<Vec<_>>())
        .bind(runs.iter().map(|r| r.manual).collect::<Vec<_>>())
        .fetch_all(pool)
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
        let recorded: Vec<(String, i64)> = sqlx::query_as(RECORDED_AMONG_PG)
            .bind(unresolved.iter().map(|&i| job_ids[i]).collect::<Vec<_>>())
            .bind(unresolved.iter().map(|&i| scheduled[i]).collect::<Vec<_>>())
            .fetch_all(pool)
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

async fn begin_runs_sqlite(
    pool: &sqlx::SqlitePool,
    runs: &[NewRun],
) -> Result<Vec<BeginRun>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut answers = Vec::with_capacity(runs.len());
    for run in runs {
        let started: Option<i64> = sqlx::query_scalar(BEGIN_ONE.sqlite)
            .bind(&run.job_id)
            .bind(run.scheduled_at_ms)
            .bind(&run.instance_id)
            .bind(run.epoch)
            .bind(run.plugin_digest.as_deref())
            .bind(run.attempt)
            .bind(run.catch_up)
            .bind(run.manual)
            .fetch_optional(&mut *tx)
            .await?;
        let answer = match started {
            Some(id) => BeginRun::Started(id),
            None => {
                let recorded: i64 = sqlx::query_scalar(RECORDED_ONE)
                    .bind(&run.job_id)
                    .bind(run.scheduled_at_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                if recorded > 0 {
                    BeginRun::AlreadyRecorded
                } else {
                    BeginRun::Fenced
                }
            }
        };
        answers.push(answer);
    }
    tx.commit().await?;
    Ok(answers)
}

async fn finish_runs_postgres(
    pool: &sqlx::PgPool,
    finishes: &[BoundedFinish<'_>],
) -> Result<Vec<Finished>, StoreError> {
    let finished: Vec<(i64, i64)> = sqlx::query_as(FINISH_MANY_PG)
        .bind(finishes.iter().map(|f| f.run_id).collect::<Vec<_>>())
        .bind(finishes.iter().map(|f| f.epoch).collect::<Vec<_>>())
        .bind(finishes.iter().map(|f| f.status).collect::<Vec<_>>())
        .bind(
            finishes
                .iter()
                .map(|f| f.result.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            finishes
                .iter()
                .map(|f| f.error.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            finishes
                .iter()
                .map(|f| f.logs.as_deref())
                .collect::<Vec<_>>(),
        )
        .fetch_all(pool)
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

async fn finish_runs_sqlite(
    pool: &sqlx::SqlitePool,
    finishes: &[BoundedFinish<'_>],
) -> Result<Vec<Finished>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut answers = Vec::with_capacity(finishes.len());
    for finish in finishes {
        let done = sqlx::query(FINISH_ONE.sqlite)
            .bind(finish.run_id)
            .bind(finish.epoch)
            .bind(finish.status)
            .bind(finish.result.as_deref())
            .bind(finish.error.as_deref())
            .bind(finish.logs.as_deref())
            .execute(&mut *tx)
            .await?;
        answers.push(if done.rows_affected() > 0 {
            Finished::Ok
        } else {
            Finished::Fenced
        });
    }
    tx.commit().await?;
    Ok(answers)
}
