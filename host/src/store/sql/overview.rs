//! The on-call overview: a few read-only statements of plain SQL every engine reads alike
//! (their placeholders are written in the engine's style as values are bound), all relative
//! to one reading of the database clock.

use super::{SqlEngine, Stmt, schema};
use crate::store::error::StoreError;
use crate::store::failure::FailurePolicy;
use crate::store::model::RunStatus;
use crate::store::overview::{
    AlertFailures, FailingJob, LATENESS_SAMPLES, Lateness, OVERVIEW_LIST_LIMIT, OVERVIEW_WINDOW_MS,
    Overview, PausedJob, StaleJob, minutes_from, window_start,
};

/// A minute's count of one status: (minute start, status, count).
pub(super) type MinuteRow = (i64, String, i64);
/// A failing job: (id, name, tick, attempt, status, error, finished).
pub(super) type FailingRow = (
    String,
    String,
    i64,
    i32,
    String,
    Option<String>,
    Option<i64>,
);
/// A paused job: (id, name, failure policy, updated).
pub(super) type PausedRow = (String, String, String, i64);
/// A job with a `stale_after`: (id, name, failure policy, created, last success).
pub(super) type StaleRow = (String, String, String, i64, Option<i64>);

/// Runs by minute of their tick (`60000` is [`crate::store::overview::OVERVIEW_BUCKET_MS`]).
const MINUTES: &str = "SELECT scheduled_at_ms - scheduled_at_ms % 60000, status, COUNT(*) \
     FROM runs WHERE scheduled_at_ms >= ";

/// The last attempt of each job's newest tick that ran, when it failed and no attempt of
/// the tick is planned. Driven by the jobs: one index probe per job for its newest tick, then
/// that tick's attempts only, however long the run history.
const FAILING: &str = "SELECT j.id, j.name, r.scheduled_at_ms, r.attempt, r.status, r.error, \
     r.finished_at_ms \
     FROM (SELECT k.id, k.name, (SELECT MAX(t.scheduled_at_ms) FROM runs t \
         WHERE t.job_id = k.id AND t.status IN ('running', 'succeeded', 'failed', 'timed_out')) \
         AS tick FROM jobs k) j \
     JOIN runs r ON r.job_id = j.id AND r.scheduled_at_ms = j.tick \
     WHERE r.attempt = (SELECT MAX(a.attempt) FROM runs a WHERE a.job_id = r.job_id \
         AND a.scheduled_at_ms = r.scheduled_at_ms) \
     AND r.status IN ('failed', 'timed_out') \
     AND NOT EXISTS (SELECT 1 FROM run_retries q WHERE q.job_id = r.job_id \
         AND q.scheduled_at_ms = r.scheduled_at_ms) \
     ORDER BY r.finished_at_ms DESC, j.id LIMIT ";

const PAUSED: &str = "SELECT id, name, failure, updated_at_ms FROM jobs \
     WHERE paused = TRUE AND paused_reason = 'failures' ORDER BY name LIMIT ";

const STALE: &str = "SELECT j.id, j.name, j.failure, j.created_at_ms, \
     (SELECT MAX(r.finished_at_ms) FROM runs r WHERE r.job_id = j.id AND r.status = 'succeeded') \
     FROM jobs j WHERE j.failure LIKE '%stale_after_ms%' ORDER BY j.name";

const ALERT_COUNTS: &str = "SELECT \
     COUNT(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 END), \
     COUNT(CASE WHEN state = 'given_up' THEN 1 END) FROM alert_outbox";

const ALERT_LATEST: &str = "SELECT last_error, host FROM alert_outbox \
     WHERE last_error IS NOT NULL AND ((state = 'pending' AND attempts > 0) OR state = 'given_up') \
     ORDER BY id DESC LIMIT 1";

fn policy(id: &str, text: &str) -> Result<FailurePolicy, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: "job failure",
        detail: format!("job {id}: {e}"),
    })
}

fn status(text: &str) -> Result<RunStatus, StoreError> {
    text.parse().map_err(|e| StoreError::Corrupt {
        what: "run status",
        detail: format!("{e}"),
    })
}

pub(super) async fn read<E: SqlEngine>(engine: &E) -> Result<Overview, StoreError> {
    let now_ms = schema::now_ms(engine).await?;
    let minutes: Vec<MinuteRow> = Stmt::new(MINUTES)
        .push_bind(window_start(now_ms))
        .push(" GROUP BY 1, 2")
        .fetch_all(engine.on())
        .await?;
    let minutes = minutes
        .into_iter()
        .map(|(minute, s, count)| Ok((minute, status(&s)?, count)))
        .collect::<Result<Vec<_>, StoreError>>()?;

    let late: Vec<i64> =
        Stmt::new("SELECT started_at_ms - scheduled_at_ms FROM runs WHERE scheduled_at_ms >= ")
            .push_bind(now_ms - OVERVIEW_WINDOW_MS)
            .push(
                " AND started_at_ms IS NOT NULL AND attempt = 1 AND manual = FALSE \
         ORDER BY scheduled_at_ms DESC LIMIT ",
            )
            .push_bind(LATENESS_SAMPLES)
            .scalars(engine.on())
            .await?;

    let failing: Vec<FailingRow> = Stmt::new(FAILING)
        .push_bind(OVERVIEW_LIST_LIMIT)
        .fetch_all(engine.on())
        .await?;
    let failing = failing
        .into_iter()
        .map(|(id, name, tick, attempt, s, error, finished)| {
            Ok(FailingJob {
                id,
                name,
                scheduled_at_ms: tick,
                attempt,
                status: status(&s)?,
                error,
                finished_at_ms: finished,
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let paused: Vec<PausedRow> = Stmt::new(PAUSED)
        .push_bind(OVERVIEW_LIST_LIMIT)
        .fetch_all(engine.on())
        .await?;
    let paused = paused
        .into_iter()
        .map(|(id, name, failure, updated_at_ms)| {
            Ok(PausedJob {
                pause_after_failures: policy(&id, &failure)?.pause_after_failures,
                id,
                name,
                updated_at_ms,
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let candidates: Vec<StaleRow> = Stmt::new(STALE).fetch_all(engine.on()).await?;
    let mut stale = Vec::new();
    for (id, name, failure, created_at_ms, last_success_ms) in candidates {
        let Some(after) = policy(&id, &failure)?.stale_after_ms else {
            continue;
        };
        // The rule of the job's `stale` flag (`api::views::JobView`).
        if now_ms - last_success_ms.unwrap_or(created_at_ms) > after {
            stale.push(StaleJob {
                id,
                name,
                stale_after_ms: after,
                last_success_ms,
            });
        }
    }
    stale.truncate(OVERVIEW_LIST_LIMIT as usize);

    let (retrying, given_up): (i64, i64) = Stmt::new(ALERT_COUNTS).fetch_one(engine.on()).await?;
    let latest: Option<(String, String)> =
        Stmt::new(ALERT_LATEST).fetch_optional(engine.on()).await?;

    Ok(Overview {
        now_ms,
        minutes: minutes_from(now_ms, &minutes),
        lateness: Lateness::of(late),
        failing,
        paused,
        stale,
        alerts: AlertFailures {
            retrying,
            given_up,
            latest,
        },
    })
}
