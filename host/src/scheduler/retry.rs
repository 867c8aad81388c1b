//! Retries on the executor's side: which policy applies, the delay before the next attempt,
//! waiting for a planned attempt to come due (by the database clock) and running it.
//!
//! A failed attempt's run stays in flight while its next attempt waits, so the tick counts as
//! running for the overlap policy. The plan itself lives in the database (written with the
//! failure, consumed by the next attempt's start), so when this replica stops waiting — it
//! shuts down, crashes, loses the job — the job's next owner finds the plan
//! ([`super::feed_retries`]) and runs the attempt at its due time, once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tracing::Instrument;

use super::core::MISFIRE_GRACE_MS;
use super::execute::{Executor, RunEnd};
use crate::jobs::JobSpec;
use crate::schedule::MisfirePolicy;
use crate::store::{RetryPolicy, RetryWait};

/// Longest single sleep while a planned attempt is not due (the plan is read again after).
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// A tick as the executor runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TickOf {
    pub tick_ms: i64,
    pub catch_up: bool,
    pub manual: bool,
}

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Attempted {
    /// The tick is done here (succeeded, failed for good, fenced, stalled).
    Ended(RunEnd),
    /// This attempt (from 2) is planned: wait for it, then run it.
    Retry(i32),
}

/// The ticks (job id, scheduled instant) whose retries a replica answers for at the moment:
/// their run is in flight here, so the feeder of planned attempts leaves them alone.
#[derive(Clone, Debug, Default)]
pub struct RetryBook(Arc<Mutex<HashSet<(String, i64)>>>);

impl RetryBook {
    /// Answer for the tick's retries until the guard is dropped; `None` when something here
    /// already does.
    pub(super) fn enter(&self, job_id: &str, tick_ms: i64) -> Option<BookGuard> {
        let key = (job_id.to_owned(), tick_ms);
        let fresh = self.0.lock().expect("retry book").insert(key.clone());
        fresh.then(|| BookGuard {
            book: self.clone(),
            key,
        })
    }

    /// Whether something here answers for the tick's retries.
    pub fn holds(&self, job_id: &str, tick_ms: i64) -> bool {
        self.0
            .lock()
            .expect("retry book")
            .contains(&(job_id.to_owned(), tick_ms))
    }
}

/// A tick entered in a [`RetryBook`]; leaves it when dropped (the run ended or was cancelled).
pub(super) struct BookGuard {
    book: RetryBook,
    key: (String, i64),
}

impl Drop for BookGuard {
    fn drop(&mut self) {
        if let Ok(mut book) = self.book.0.lock() {
            book.remove(&self.key);
        }
    }
}

/// The replica stops, or releases jobs: retries waiting for their due time stop waiting.
#[derive(Debug, Default)]
pub(super) struct Stopping {
    set: AtomicBool,
    /// Jobs released, with the epoch they were held under (a re-take comes under another).
    released: Mutex<HashSet<(String, i64)>>,
    notify: Notify,
}

impl Stopping {
    fn applies_to(&self, job: &JobSpec) -> bool {
        self.set.load(Ordering::SeqCst)
            || self
                .released
                .lock()
                .expect("released jobs")
                .contains(&(job.id.clone(), job.epoch))
    }
}

impl Executor {
    /// The job's retry policy, else the cluster default, else one attempt.
    pub(super) fn retry_policy(&self, job: &JobSpec) -> RetryPolicy {
        job.failure
            .retry
            .or(self.settings.get().default_retry)
            .unwrap_or(RetryPolicy {
                attempts: 1,
                backoff_ms: 0,
                max_backoff_ms: 0,
            })
    }

    /// The delay before the attempt after `failed`, with the job's deterministic jitter;
    /// `None` when `failed` was the last one.
    pub(super) fn retry_delay(&self, job: &JobSpec, failed: i32) -> Option<i64> {
        let delay = self.retry_policy(job).delay_after(failed.max(1) as u32)?;
        let jitter = job.timing.fire_delay(&job.id).as_millis() as i64;
        Some(delay.saturating_add(jitter))
    }

    /// Waits for and runs the planned attempts of a tick, from `first` on, until one ends it.
    pub(super) async fn retry_from(
        &self,
        job: &Arc<JobSpec>,
        tick: TickOf,
        first: Attempted,
    ) -> RunEnd {
        let mut attempted = first;
        loop {
            match attempted {
                Attempted::Ended(end) => return end,
                Attempted::Retry(attempt) => {
                    if let Some(end) = self.wait_for(job, tick, attempt).await {
                        return end;
                    }
                    attempted = self.attempt(job, tick, attempt, None).await;
                }
            }
        }
    }

    /// Run the planned attempt `attempt` of a tick found in the database (its owner before
    /// stopped waiting for it), at its due time; nothing when this replica already answers
    /// for the tick.
    pub async fn run_retry(
        &self,
        job: Arc<JobSpec>,
        tick_ms: i64,
        attempt: i32,
        catch_up: bool,
        manual: bool,
    ) -> RunEnd {
        let Some(_book) = self.retries.enter(&job.id, tick_ms) else {
            return RunEnd::Done;
        };
        let tick = TickOf {
            tick_ms,
            catch_up,
            manual,
        };
        let span = tracing::info_span!(
            "retry",
            job = %job.name,
            job_id = %job.id,
            tick = tick_ms,
            attempt,
            instance = %self.instance_id,
        );
        self.retry_from(&job, tick, Attempted::Retry(attempt))
            .instrument(span)
            .await
    }

    /// Waits until the planned attempt is due by the database clock; `Some(end)` when it is
    /// not to be run here (gone, dropped by the misfire policy, the replica stops).
    async fn wait_for(&self, job: &JobSpec, tick: TickOf, attempt: i32) -> Option<RunEnd> {
        let mut backoff = Duration::from_millis(200);
        loop {
            let stopped = self.stopping.notify.notified();
            if self.stopping.applies_to(job) {
                return Some(RunEnd::Done);
            }
            let pause = match self.store.retry_wait(&job.id, tick.tick_ms, attempt).await {
                Ok(RetryWait::Gone) => {
                    tracing::info!(attempt, "planned attempt gone (run, or dropped): not run");
                    return Some(RunEnd::Done);
                }
                Ok(RetryWait::DueIn(ms)) if ms > 0 => {
                    Duration::from_millis(ms as u64).min(LONGEST_WAIT)
                }
                Ok(RetryWait::DueIn(ms)) => return self.late(job, tick, attempt, -ms).await,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "cannot read a planned attempt; waiting for the database");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    backoff
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped => return Some(RunEnd::Done),
            }
        }
    }

    /// A planned attempt that is due, `late_ms` after its due time: the misfire policy decides
    /// whether a late one still runs (`skip` drops it, and so does the catch-up window).
    async fn late(
        &self,
        job: &JobSpec,
        tick: TickOf,
        attempt: i32,
        late_ms: i64,
    ) -> Option<RunEnd> {
        let grace = MISFIRE_GRACE_MS + job.timing.jitter.as_millis() as i64;
        let window = job.catchup_window.as_millis() as i64;
        let dropped = late_ms > grace && (job.misfire == MisfirePolicy::Skip || late_ms > window);
        if !dropped {
            return None;
        }
        tracing::warn!(attempt, late_ms, misfire = %job.misfire, "planned attempt came due while nobody could run it: dropped");
        crate::metrics::global().retry_dropped();
        match self.store.drop_retry(&job.id, tick.tick_ms, attempt).await {
            Ok(_) => Some(RunEnd::Done),
            Err(e) => {
                // Found again later (by this replica's feeder, or the next owner's).
                tracing::warn!(error = %e, "cannot drop a late planned attempt");
                Some(RunEnd::Done)
            }
        }
    }

    /// The replica stops: retries waiting for their due time end now; their plans stay in the
    /// database for the job's next owner.
    pub fn stop_waiting(&self) {
        self.stopping.set.store(true, Ordering::SeqCst);
        self.stopping.notify.notify_waiters();
    }

    /// The job, held under `epoch`, is released to another replica: its retries waiting for
    /// their due time end now (fenced from here on anyway), so the release does not wait
    /// for them.
    pub fn stop_waiting_for(&self, job_id: &str, epoch: i64) {
        self.stopping
            .released
            .lock()
            .expect("released jobs")
            .insert((job_id.to_owned(), epoch));
        self.stopping.notify.notify_waiters();
    }

    /// The release of the job held under `epoch` is over: no run of that epoch is left here to
    /// stop, so the job is forgotten (a replica handing jobs back and forth keeps nothing per
    /// handoff).
    pub fn released(&self, job_id: &str, epoch: i64) {
        self.stopping
            .released
            .lock()
            .expect("released jobs")
            .remove(&(job_id.to_owned(), epoch));
    }
}
