//! Executing the scheduler's actions: record, run, finish — each fenced by the job's epoch.
//! Ticks not run are recorded in `not_run.rs`.

mod not_run;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tracing::Instrument;

use super::ledger::RunLedger;
use super::retry::{Attempted, RetryBook, Stopping, TickOf};
use super::run_request::run_request;
use crate::alerts::Alert;
use crate::events::{Event, Publisher, instant};
use crate::jobs::{JobSpec, Jobs};
use crate::runtime::{RunOutcome, RunRequest, RunStatus, Runtime};
use crate::settings::SettingsCache;
use crate::store::{BeginRun, FinishRun, Finished, NewRun, RunStatus as StoredStatus, Store};

/// How a tick's handling ended, for the scheduler loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Run (or found already recorded): the job may start what waits.
    Done,
    /// The tick could not be recorded (database unavailable): re-plan when it is back.
    Stalled,
    /// Missed/skipped ticks could not be recorded (database unavailable).
    RecordStalled,
    /// The job is owned elsewhere now.
    Fenced,
}

/// Runs ticks for one replica.
pub struct Executor {
    pub store: Store,
    pub runtime: Runtime,
    pub ledger: RunLedger,
    pub instance_id: String,
    pub settings: SettingsCache,
    pub events: Publisher,
    limit: Semaphore,
    limit_size: Mutex<usize>,
    in_flight: Mutex<HashMap<i64, i64>>,
    cancelled: AtomicBool,
    grace: Duration,
    /// The ticks whose retries this replica answers for now.
    pub retries: RetryBook,
    /// Set when the replica stops: waiting retries end (their plans stay in the database).
    pub(super) stopping: Stopping,
    /// Job operations: pausing a job after repeated failures (not without them).
    jobs: Option<Jobs>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("instance_id", &self.instance_id)
            .finish()
    }
}

fn stored_name(status: RunStatus) -> &'static str {
    to_stored(status).as_str()
}

fn to_stored(status: RunStatus) -> StoredStatus {
    match status {
        RunStatus::Succeeded => StoredStatus::Succeeded,
        RunStatus::Failed => StoredStatus::Failed,
        RunStatus::TimedOut => StoredStatus::TimedOut,
    }
}

impl Executor {
    pub fn new(
        store: Store,
        runtime: Runtime,
        ledger: RunLedger,
        instance_id: String,
        settings: SettingsCache,
        events: Publisher,
        grace: Duration,
    ) -> Self {
        let size = settings.get().max_concurrent_runs;
        Executor {
            store,
            runtime,
            ledger,
            instance_id,
            settings,
            events,
            limit: Semaphore::new(size),
            limit_size: Mutex::new(size),
            in_flight: Mutex::default(),
            cancelled: AtomicBool::new(false),
            grace,
            retries: RetryBook::default(),
            stopping: Stopping::default(),
            jobs: None,
        }
    }

    /// Pause jobs through `jobs` after their `pause_after_failures` consecutive failed ticks.
    pub fn with_jobs(mut self, jobs: Jobs) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// Follow `scheduler.max_concurrent_runs` (grow or shrink the permit pool).
    fn sync_limit(&self) {
        let want = self.settings.get().max_concurrent_runs;
        let mut have = self.limit_size.lock().expect("limit lock");
        if want > *have {
            self.limit.add_permits(want - *have);
            *have = want;
        } else if want < *have {
            let shrink = self.limit.forget_permits(*have - want);
            *have -= shrink;
        }
    }

    /// Record a tick, run it, finish it; then its retries, if it failed and its policy says.
    pub async fn run_tick(&self, job: Arc<JobSpec>, tick_ms: i64, catch_up: bool) -> RunEnd {
        let tick = TickOf {
            tick_ms,
            catch_up,
            manual: false,
        };
        self.run(job, tick, None).await
    }

    /// Run the manual trigger `trigger_id` as the tick `tick_ms` (recorded `manual`); the
    /// trigger is deleted once the tick is recorded (or found recorded already).
    pub async fn run_manual(&self, job: Arc<JobSpec>, tick_ms: i64, trigger_id: i64) -> RunEnd {
        let tick = TickOf {
            tick_ms,
            catch_up: false,
            manual: true,
        };
        self.run(job, tick, Some(trigger_id)).await
    }

    async fn run(&self, job: Arc<JobSpec>, tick: TickOf, trigger_id: Option<i64>) -> RunEnd {
        let span = tracing::info_span!(
            "run",
            job = %job.name,
            job_id = %job.id,
            tick = tick.tick_ms,
            instance = %self.instance_id,
            catch_up = tick.catch_up,
            manual = tick.manual,
        );
        async {
            // While a tick may still be retried, this replica answers for its retries: the
            // feeder of planned attempts leaves them to this run.
            let _book = (self.retry_policy(&job).attempts > 1)
                .then(|| self.retries.enter(&job.id, tick.tick_ms))
                .flatten();
            let first = self.attempt(&job, tick, 1, trigger_id).await;
            self.retry_from(&job, tick, first).await
        }
        .instrument(span)
        .await
    }

    /// One attempt of a tick: record it (the first through the ledger, a later one by
    /// consuming its plan), run the plugin, finish it, planning the next attempt in the same
    /// write when it failed and the policy allows another.
    pub(super) async fn attempt(
        &self,
        job: &Arc<JobSpec>,
        tick: TickOf,
        attempt: i32,
        trigger_id: Option<i64>,
    ) -> Attempted {
        self.sync_limit();
        let Ok(_permit) = self.limit.acquire().await else {
            return Attempted::Ended(RunEnd::Stalled);
        };
        let plugin = self.runtime.plugins.get(&job.plugin);
        let digest = plugin.as_ref().ok().map(|p| p.digest.clone());
        let new_run = NewRun {
            job_id: job.id.clone(),
            scheduled_at_ms: tick.tick_ms,
            instance_id: self.instance_id.clone(),
            epoch: job.epoch,
            plugin_digest: digest.clone(),
            attempt,
            catch_up: tick.catch_up,
            manual: tick.manual,
        };
        let begin = if attempt == 1 {
            self.ledger.begin(new_run).await
        } else {
            self.store.begin_attempt(&new_run).await.map_err(Arc::new)
        };
        if let (Some(trigger), Ok(BeginRun::Started(_) | BeginRun::AlreadyRecorded)) =
            (trigger_id, &begin)
            && let Err(e) = self.store.delete_trigger(trigger).await
        {
            // Harmless: offered again, the tick is found recorded already.
            tracing::debug!(error = %e, trigger, "cannot delete a taken manual trigger");
        }
        let run_id = match begin {
            Ok(BeginRun::Started(id)) => id,
            Ok(BeginRun::AlreadyRecorded) => {
                tracing::debug!(attempt, "attempt already recorded (or dropped): not run");
                return Attempted::Ended(RunEnd::Done);
            }
            Ok(BeginRun::Fenced) => {
                crate::metrics::global().fenced("run");
                return Attempted::Ended(RunEnd::Fenced);
            }
            Err(e) if attempt > 1 => {
                // The plan stays in the database: wait for it again.
                tracing::warn!(error = %e, attempt, "cannot record a retry; it waits for the database");
                return Attempted::Retry(attempt);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot record tick; it waits for the database");
                return Attempted::Ended(RunEnd::Stalled);
            }
        };
        self.in_flight
            .lock()
            .expect("in-flight lock")
            .insert(run_id, job.epoch);
        crate::metrics::global().tick_fired_at(tick.tick_ms);
        self.events.publish(Event::RunStarted {
            job_id: job.id.clone(),
            job: job.name.clone(),
            run_id,
            scheduled_at: instant(tick.tick_ms),
            attempt,
            instance_id: self.instance_id.clone(),
            catch_up: tick.catch_up,
            manual: tick.manual,
        });
        let outcome = match plugin {
            Ok(plugin) => {
                let request = self.request(job, tick, attempt);
                plugin.run(&self.runtime.engine, request).await
            }
            Err(e) => RunOutcome::failed(e.to_string()),
        };
        // Succeeded runs at DEBUG (their record, event and metrics tell it), others at INFO.
        let (ms, d) = (
            outcome.duration.as_millis() as u64,
            digest.as_deref().unwrap_or("-"),
        );
        if outcome.status == RunStatus::Succeeded {
            tracing::debug!(attempt, status = ?outcome.status, duration_ms = ms, digest = d, "run finished");
        } else {
            tracing::info!(attempt, status = ?outcome.status, duration_ms = ms, digest = d, "run finished");
        }
        crate::metrics::global().run_finished(stored_name(outcome.status), outcome.duration);
        let outcome_failed = outcome.status != RunStatus::Succeeded;
        let retry_in = match outcome.status {
            RunStatus::Failed | RunStatus::TimedOut => self.retry_delay(job, attempt),
            RunStatus::Succeeded => None,
        };
        let finished = Event::RunFinished {
            job_id: job.id.clone(),
            job: job.name.clone(),
            run_id,
            scheduled_at: instant(tick.tick_ms),
            attempt,
            instance_id: self.instance_id.clone(),
            status: to_stored(outcome.status),
            duration_ms: outcome.duration.as_millis() as u64,
            error: outcome.error.clone(),
        };
        let failed_for_good = (retry_in.is_none() && outcome_failed)
            .then(|| (to_stored(outcome.status), outcome.error.clone()));
        let end = self.finish(run_id, job.epoch, outcome, retry_in).await;
        if end == RunEnd::Done {
            self.events.publish(finished);
            if let Some((status, error)) = failed_for_good {
                let job_ref = (job.id.as_str(), job.name.as_str());
                let at = tick.tick_ms;
                let alert =
                    Alert::run_failed(job_ref, at, attempt, status, error, &self.instance_id);
                self.events.alert(alert);
            } else if !outcome_failed {
                super::recovery::after_success(self, job, tick.tick_ms);
            }
        }
        self.in_flight
            .lock()
            .expect("in-flight lock")
            .remove(&run_id);
        if end == RunEnd::Done
            && retry_in.is_none()
            && outcome_failed
            && let Some(limit) = job.failure.pause_after_failures
            && let Some(jobs) = &self.jobs
            && let Err(e) = jobs
                .pause_after_failures(&job.id, job.anchor_ms, limit)
                .await
        {
            tracing::warn!(error = %e, "cannot check the job's consecutive failures");
        }
        match retry_in {
            Some(delay_ms) if end == RunEnd::Done => {
                crate::metrics::global().retry_planned();
                tracing::info!(
                    attempt,
                    next_in_ms = delay_ms,
                    "attempt failed: the next one is planned"
                );
                Attempted::Retry(attempt + 1)
            }
            _ => Attempted::Ended(end),
        }
    }

    fn request(&self, job: &Arc<JobSpec>, tick: TickOf, attempt: i32) -> RunRequest {
        let mut request = run_request(
            (&self.store, &self.settings, &self.runtime.secrets),
            &self.instance_id,
            job,
            tick.tick_ms,
            tick.catch_up,
        );
        request.tick.attempt = attempt.max(1) as u32;
        request
    }

    /// Finish a run, retrying while the database is unreachable: the run happened, so its
    /// outcome must be recorded (unless the job was fenced meanwhile). With `retry_in`, the
    /// next attempt is planned in the same write.
    async fn finish(
        &self,
        run_id: i64,
        epoch: i64,
        outcome: RunOutcome,
        retry_in: Option<i64>,
    ) -> RunEnd {
        let finish = FinishRun {
            status: to_stored(outcome.status),
            result: outcome.result,
            error: outcome.error,
            logs: Some(outcome.logs),
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            let written = match retry_in {
                None => self.ledger.finish(run_id, epoch, finish.clone()).await,
                Some(delay_ms) => self
                    .store
                    .finish_and_plan_retry(run_id, epoch, &finish, delay_ms)
                    .await
                    .map_err(Arc::new),
            };
            match written {
                Ok(Finished::Ok) => return RunEnd::Done,
                Ok(Finished::Fenced) => {
                    crate::metrics::global().fenced("finish");
                    tracing::warn!(
                        run_id,
                        "run finished after its job was fenced: outcome not recorded"
                    );
                    return RunEnd::Fenced;
                }
                Err(e) => {
                    if self.cancelled.load(Ordering::Relaxed) {
                        return RunEnd::Done;
                    }
                    tracing::warn!(error = %e, run_id, "cannot record run outcome; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Mark the start of a forced stop: runs in flight are about to be cancelled.
    pub fn cancel_in_flight(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Record runs cancelled by shutdown as failed.
    pub async fn record_cancelled(&self) {
        let runs: Vec<(i64, i64)> = self
            .in_flight
            .lock()
            .expect("in-flight lock")
            .drain()
            .collect();
        if runs.is_empty() {
            return;
        }
        let error = format!(
            "cancelled: the replica shut down and the grace period ({}) expired",
            humantime::format_duration(self.grace)
        );
        let items: Vec<(i64, i64, FinishRun)> = runs
            .into_iter()
            .map(|(id, epoch)| {
                (
                    id,
                    epoch,
                    FinishRun {
                        status: StoredStatus::Failed,
                        result: None,
                        error: Some(error.clone()),
                        logs: None,
                    },
                )
            })
            .collect();
        if let Err(e) = self.store.finish_runs(&items).await {
            tracing::error!(error = %e, "cannot record cancelled runs");
        }
    }
}
