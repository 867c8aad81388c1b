//! Handing actions out to runs: the [`Execute`] trait (what carries an action out), and the
//! machinery that begins a burst of runs in few tasks, tracks each job's runs in flight, and
//! cancels them when the job is fenced or the grace period is over.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{Notify, mpsc};

use super::core::{Action, NotRun};
use super::execute::{Executor, RunEnd};
use crate::jobs::JobSpec;

/// What carries out the scheduler's actions. [`Executor`] is the real one (store + plugin
/// runtime); benches plug in a no-op one to measure the scheduler itself.
pub trait Execute: Send + Sync + 'static {
    /// Record a tick, run it, finish it.
    fn run_tick(&self, job: Arc<JobSpec>, tick_ms: i64, catch_up: bool) -> BoxFuture<'_, RunEnd>;
    /// Run a manual trigger as the tick `tick_ms` (recorded `manual`), and delete the trigger
    /// once the tick is recorded.
    fn run_manual(
        &self,
        job: Arc<JobSpec>,
        tick_ms: i64,
        _trigger_id: i64,
    ) -> BoxFuture<'_, RunEnd> {
        self.run_tick(job, tick_ms, false)
    }
    /// Record ticks that are not run; `None` when recorded. With `after_run`, only if that
    /// tick's run is recorded (a tick skipped for overlap names the run it overlapped).
    fn record_not_run<'a>(
        &'a self,
        job: &'a JobSpec,
        ticks: &'a [(i64, NotRun)],
        unlisted_missed: u64,
        unlisted_range: Option<(i64, i64)>,
        after_run: Option<i64>,
    ) -> BoxFuture<'a, Option<RunEnd>>;
    /// Wait for the planned attempt `attempt` of a tick to come due, then run it.
    fn run_retry(
        &self,
        _job: Arc<JobSpec>,
        _tick_ms: i64,
        _attempt: i32,
        _catch_up: bool,
        _manual: bool,
    ) -> BoxFuture<'_, RunEnd> {
        Box::pin(async { RunEnd::Done })
    }
    /// The replica stops: runs waiting for a retry's due time end now.
    fn stop_waiting(&self) {}
    /// The job is released under `epoch`: its runs waiting for a retry's due time end now.
    fn stop_waiting_for(&self, _job_id: &str, _epoch: i64) {}
    /// The release of the job under `epoch` is over (its runs ended, or were cancelled):
    /// what [`Execute::stop_waiting_for`] remembered of it can go.
    fn released(&self, _job_id: &str, _epoch: i64) {}
    /// The grace period is over: runs in flight are about to be cancelled.
    fn cancel_in_flight(&self) {}
    /// Record the runs that were cancelled.
    fn record_cancelled(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

impl Execute for Executor {
    fn run_tick(&self, job: Arc<JobSpec>, tick_ms: i64, catch_up: bool) -> BoxFuture<'_, RunEnd> {
        Box::pin(Executor::run_tick(self, job, tick_ms, catch_up))
    }
    fn run_manual(
        &self,
        job: Arc<JobSpec>,
        tick_ms: i64,
        trigger_id: i64,
    ) -> BoxFuture<'_, RunEnd> {
        Box::pin(Executor::run_manual(self, job, tick_ms, trigger_id))
    }
    fn record_not_run<'a>(
        &'a self,
        job: &'a JobSpec,
        ticks: &'a [(i64, NotRun)],
        unlisted_missed: u64,
        unlisted_range: Option<(i64, i64)>,
        after_run: Option<i64>,
    ) -> BoxFuture<'a, Option<RunEnd>> {
        Box::pin(Executor::record_not_run(
            self,
            job,
            ticks,
            unlisted_missed,
            unlisted_range,
            after_run,
        ))
    }
    fn run_retry(
        &self,
        job: Arc<JobSpec>,
        tick_ms: i64,
        attempt: i32,
        catch_up: bool,
        manual: bool,
    ) -> BoxFuture<'_, RunEnd> {
        Box::pin(Executor::run_retry(
            self, job, tick_ms, attempt, catch_up, manual,
        ))
    }
    fn stop_waiting(&self) {
        Executor::stop_waiting(self)
    }
    fn stop_waiting_for(&self, job_id: &str, epoch: i64) {
        Executor::stop_waiting_for(self, job_id, epoch)
    }
    fn released(&self, job_id: &str, epoch: i64) {
        Executor::released(self, job_id, epoch)
    }
    fn cancel_in_flight(&self) {
        Executor::cancel_in_flight(self)
    }
    fn record_cancelled(&self) -> BoxFuture<'_, ()> {
        Box::pin(Executor::record_cancelled(self))
    }
}

/// The runs of one job: how many are in flight (kept by the loop), and their cancellation:
/// each run carries the generation it was dispatched under and stops (its future is dropped)
/// once the generation moves on.
#[derive(Debug)]
pub(super) struct JobRuns {
    pub(super) job_id: String,
    pub(super) in_flight: AtomicUsize,
    pub(super) generation: AtomicU64,
    pub(super) cancel: Notify,
}

/// What every run shares: the executor, the way back to the loop, the shutdown switch.
pub(super) struct Shared {
    pub(super) executor: Arc<dyn Execute>,
    pub(super) ends: mpsc::UnboundedSender<Vec<Ended>>,
    /// Set when the grace period is over: every run still going is cancelled, none starts.
    pub(super) stopping: AtomicBool,
    pub(super) stop: Notify,
}

/// A task's own handle on [`Shared`]: the runs a task begins hold it (not `Shared` itself), so
/// workers beginning runs at the same time do not all count references in one place.
pub(super) struct Local(pub(super) Arc<Shared>);

impl std::ops::Deref for Local {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// One action handed to a run, with the generation of its job it belongs to.
pub(super) struct Dispatch {
    pub(super) action: Action,
    pub(super) runs: Arc<JobRuns>,
    pub(super) generation: u64,
}

/// A run (or record) left the executor: `end` is what the loop must act on; `None` when
/// there is nothing (recorded fine, cancelled, or panicked).
pub(super) struct Ended {
    pub(super) key: u64,
    pub(super) runs: Arc<JobRuns>,
    pub(super) tick_ms: i64,
    /// The trigger a manual run was for.
    pub(super) trigger_id: Option<i64>,
    pub(super) end: Option<RunEnd>,
}

/// Begin each run of a batch in turn; one that has to wait continues in a task of its own.
/// The ends of the runs done at once go back to the loop together.
pub(super) async fn start(shared: Arc<Shared>, batch: Vec<Dispatch>) {
    let shared = Arc::new(Local(shared));
    let mut ends = Vec::with_capacity(batch.len());
    for dispatch in batch {
        let mut run = Box::pin(run_one(shared.clone(), dispatch));
        match futures::poll!(run.as_mut()) {
            std::task::Poll::Ready(ended) => ends.push(ended),
            std::task::Poll::Pending => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let ended = run.await;
                    let _ = shared.ends.send(vec![ended]);
                });
            }
        }
    }
    if !ends.is_empty() {
        let _ = shared.ends.send(ends);
    }
}

/// Carry out one action unless its job's runs were cancelled (or the grace period is over).
pub(super) async fn run_one(shared: Arc<Local>, dispatch: Dispatch) -> Ended {
    let Dispatch {
        action,
        runs,
        generation,
    } = dispatch;
    let (key, tick_ms, trigger_id) = match &action {
        Action::Run { key, tick_ms, .. } | Action::Retry { key, tick_ms, .. } => {
            (*key, *tick_ms, None)
        }
        Action::Manual {
            key,
            tick_ms,
            trigger_id,
            ..
        } => (*key, *tick_ms, Some(*trigger_id)),
        Action::Record { key, ticks, .. } => (*key, ticks.first().map_or(0, |t| t.0), None),
    };
    let called_off = || {
        runs.generation.load(Ordering::SeqCst) != generation
            || shared.stopping.load(Ordering::SeqCst)
    };
    let end = if called_off() {
        None
    } else {
        let work = std::panic::AssertUnwindSafe(act(&*shared.executor, action)).catch_unwind();
        let mut work = std::pin::pin!(work);
        // Most runs of a burst either finish or reach their first wait here; only a run that
        // waits listens for cancellation.
        let done = match futures::poll!(work.as_mut()) {
            std::task::Poll::Ready(done) => done,
            std::task::Poll::Pending => {
                // Listen before checking again, so a cancellation between the two is not missed.
                let cancelled = runs.cancel.notified();
                let stopped = shared.stop.notified();
                if called_off() {
                    Ok(None)
                } else {
                    tokio::select! {
                        biased;
                        done = &mut work => done,
                        _ = cancelled => Ok(None),
                        _ = stopped => Ok(None),
                    }
                }
            }
        };
        done.unwrap_or_else(|_| {
            tracing::error!(job_id = %runs.job_id, tick = tick_ms, "run panicked");
            None
        })
    };
    Ended {
        key,
        runs,
        tick_ms,
        trigger_id,
        end,
    }
}

async fn act(executor: &dyn Execute, action: Action) -> Option<RunEnd> {
    match action {
        Action::Run {
            job,
            tick_ms,
            catch_up,
            ..
        } => Some(executor.run_tick(job, tick_ms, catch_up).await),
        Action::Manual {
            job,
            tick_ms,
            trigger_id,
            ..
        } => Some(executor.run_manual(job, tick_ms, trigger_id).await),
        Action::Retry {
            job,
            tick_ms,
            attempt,
            catch_up,
            manual,
            ..
        } => Some(
            executor
                .run_retry(job, tick_ms, attempt, catch_up, manual)
                .await,
        ),
        Action::Record {
            job,
            ticks,
            unlisted_missed,
            unlisted_range,
            after_run,
            ..
        } => {
            executor
                .record_not_run(&job, &ticks, unlisted_missed, unlisted_range, after_run)
                .await
        }
    }
}
