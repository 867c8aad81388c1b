//! Timers and dispatch: the owned jobs' ticks, fired on time, each recorded before its plugin
//! is called and finished after.
//!
//! [`SchedulerCore`] decides (pure, clock passed in); [`Scheduler`] is the loop that owns it,
//! sleeps until the next deadline, and executes its [`Action`]s through the [`RunLedger`]
//! (batched, fenced writes) and the plugin [`Runtime`](crate::runtime::Runtime).

mod clock;
mod core;
mod execute;
mod job_spec;
mod ledger;
mod run_request;
mod timers;

pub use self::clock::DbClock;
pub use self::core::{Action, MAX_LISTED_MISSED, MISFIRE_GRACE_MS, NotRun, SchedulerCore};
pub use self::execute::{Executor, RunEnd};

pub use self::job_spec::JobSpec;
pub use self::ledger::RunLedger;
pub use self::run_request::run_request;
pub use self::timers::Timers;
use futures::future::BoxFuture;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

/// Messages to the scheduler loop.
#[derive(Debug)]
pub enum Command {
    /// Hold (or re-take under a new epoch) a job; `last_accounted_ms` is the newest tick the
    /// database already has for it.
    Take {
        spec: Arc<JobSpec>,
        last_accounted_ms: i64,
    },
    /// A held job was edited (same epoch).
    Update(Arc<JobSpec>),
    /// Stop holding a job (deleted, or owned by another replica now): its timer stops and its
    /// runs in flight are cancelled (they were fenced; the new owner records them abandoned).
    Drop(String),
    /// Stop scheduling a job to hand it to another replica: its timer stops at once, and the
    /// reply (the epoch it was held under, `None` if it was not held) comes once its runs in
    /// flight have finished, so the receiver's catch-up neither misses nor repeats a tick.
    Release {
        job_id: String,
        reply: tokio::sync::oneshot::Sender<Option<i64>>,
    },
    /// The cluster-wide maintenance switch changed.
    ClusterPaused(bool),
    /// The database is reachable again: re-plan jobs whose ticks could not be recorded.
    DatabaseBack,
    /// Reply with the held jobs' (id, version, epoch).
    Versions(tokio::sync::oneshot::Sender<Vec<(String, i64, i64)>>),
    /// Reply with the next tick of each held job.
    NextTicks(tokio::sync::oneshot::Sender<Vec<(String, Option<i64>)>>),
}

/// Handle to a running scheduler loop.
#[derive(Clone, Debug)]
pub struct SchedulerHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl SchedulerHandle {
    pub fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    /// (id, version, epoch) of every held job.
    pub async fn versions(&self) -> Vec<(String, i64, i64)> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Command::Versions(tx));
        rx.await.unwrap_or_default()
    }

    /// Stop scheduling `job_id` and wait until its runs in flight have finished; the epoch it
    /// was held under, `None` if it was not held (see [`Command::Release`]).
    pub async fn release(&self, job_id: &str) -> Option<i64> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Command::Release {
            job_id: job_id.to_owned(),
            reply: tx,
        });
        rx.await.ok().flatten()
    }

    /// The next scheduled tick of every held job.
    pub async fn next_ticks(&self) -> Vec<(String, Option<i64>)> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Command::NextTicks(tx));
        rx.await.unwrap_or_default()
    }
}

/// What carries out the scheduler's actions. [`Executor`] is the real one (store + plugin
/// runtime); benches plug in a no-op one to measure the scheduler itself.
pub trait Execute: Send + Sync + 'static {
    /// Record a tick, run it, finish it.
    fn run_tick(&self, job: Arc<JobSpec>, tick_ms: i64, catch_up: bool) -> BoxFuture<'_, RunEnd>;
    /// Record ticks that are not run; `None` when recorded.
    fn record_not_run<'a>(
        &'a self,
        job: &'a JobSpec,
        ticks: &'a [(i64, NotRun)],
        unlisted_missed: u64,
        unlisted_range: Option<(i64, i64)>,
    ) -> BoxFuture<'a, Option<RunEnd>>;
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
    fn record_not_run<'a>(
        &'a self,
        job: &'a JobSpec,
        ticks: &'a [(i64, NotRun)],
        unlisted_missed: u64,
        unlisted_range: Option<(i64, i64)>,
    ) -> BoxFuture<'a, Option<RunEnd>> {
        Box::pin(Executor::record_not_run(
            self,
            job,
            ticks,
            unlisted_missed,
            unlisted_range,
        ))
    }
    fn cancel_in_flight(&self) {
        Executor::cancel_in_flight(self)
    }
    fn record_cancelled(&self) -> BoxFuture<'_, ()> {
        Box::pin(Executor::record_cancelled(self))
    }
}

/// The scheduler loop.
pub struct Scheduler {
    core: SchedulerCore,
    clock: DbClock,
    executor: Arc<dyn Execute>,
    rx: mpsc::UnboundedReceiver<Command>,
    ends_tx: mpsc::UnboundedSender<(String, i64, RunEnd)>,
    ends_rx: mpsc::UnboundedReceiver<(String, i64, RunEnd)>,
    in_flight: tokio::task::JoinSet<()>,
    /// The job each task in flight works for.
    task_jobs: HashMap<tokio::task::Id, String>,
    /// The tasks in flight of each job.
    job_tasks: HashMap<String, HashMap<tokio::task::Id, tokio::task::AbortHandle>>,
    /// Releases waiting for the job's tasks to finish: (epoch, reply).
    releasing: HashMap<String, (i64, tokio::sync::oneshot::Sender<Option<i64>>)>,
}

impl Scheduler {
    pub fn new(clock: DbClock, executor: Arc<dyn Execute>) -> (Self, SchedulerHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ends_tx, ends_rx) = mpsc::unbounded_channel();
        (
            Scheduler {
                core: SchedulerCore::new(),
                clock,
                executor,
                rx,
                ends_tx,
                ends_rx,
                in_flight: tokio::task::JoinSet::new(),
                task_jobs: HashMap::new(),
                job_tasks: HashMap::new(),
                releasing: HashMap::new(),
            },
            SchedulerHandle { tx },
        )
    }

    /// Run until `stop` resolves; then stop starting ticks and wait up to `grace` for runs in
    /// flight. Runs still going after the grace period are cancelled and recorded as failed.
    pub async fn run(mut self, stop: impl Future<Output = ()>, grace: std::time::Duration) {
        tokio::pin!(stop);
        loop {
            let sleep = match self.core.next_deadline() {
                Some(at) => tokio::time::sleep_until(
                    self.clock
                        .instant_at(at)
                        .min(tokio::time::Instant::now() + std::time::Duration::from_secs(3600)),
                ),
                None => tokio::time::sleep(std::time::Duration::from_secs(3600)),
            };
            tokio::select! {
                biased;
                _ = &mut stop => break,
                Some((job_id, tick_ms, end)) = self.ends_rx.recv() => self.on_end(&job_id, tick_ms, end),
                Some(command) = self.rx.recv() => self.on_command(command),
                _ = sleep => {
                    let now = self.clock.now_ms();
                    let actions = self.core.fire_due(now);
                    self.execute(actions);
                    self.core.rearm_fired();
                }
                Some(done) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => {
                    let id = match done {
                        Ok((id, ())) => id,
                        Err(e) => e.id(),
                    };
                    self.task_done(id);
                }
            }
        }
        tracing::info!(
            in_flight = self.in_flight.len(),
            "scheduler stopping: no new ticks"
        );
        let drain = async { while self.in_flight.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!(
                cancelled = self.in_flight.len(),
                "grace period over: cancelling runs still in flight"
            );
            self.executor.cancel_in_flight();
            self.in_flight.abort_all();
            while self.in_flight.join_next().await.is_some() {}
            self.executor.record_cancelled().await;
        }
    }

    fn on_command(&mut self, command: Command) {
        let now = self.clock.now_ms();
        let actions = match command {
            Command::Take {
                spec,
                last_accounted_ms,
            } => {
                if self
                    .core
                    .spec(&spec.id)
                    .is_some_and(|held| held.epoch != spec.epoch)
                {
                    // Held under an older epoch: whatever still runs under it is fenced.
                    self.cancel_tasks(&spec.id);
                }
                self.core.take(spec, last_accounted_ms, now)
            }
            Command::Update(spec) => self.core.update(spec, now),
            Command::Drop(id) => {
                self.core.remove(&id);
                self.cancel_tasks(&id);
                Vec::new()
            }
            Command::Release { job_id, reply } => {
                match self.core.remove(&job_id) {
                    None => {
                        let _ = reply.send(None);
                    }
                    Some(spec) if !self.job_tasks.contains_key(&job_id) => {
                        let _ = reply.send(Some(spec.epoch));
                    }
                    Some(spec) => {
                        self.releasing.insert(job_id, (spec.epoch, reply));
                    }
                }
                Vec::new()
            }
            Command::ClusterPaused(paused) => self.core.set_cluster_paused(paused, now),
            Command::DatabaseBack => {
                let mut actions = Vec::new();
                for id in self.core.stalled_jobs() {
                    actions.extend(self.core.catch_up(&id, now));
                }
                actions
            }
            Command::Versions(reply) => {
                let _ = reply.send(
                    self.core
                        .versions()
                        .map(|(id, v, e)| (id.to_string(), v, e))
                        .collect(),
                );
                Vec::new()
            }
            Command::NextTicks(reply) => {
                let _ = reply.send(
                    self.core
                        .job_ids()
                        .into_iter()
                        .map(|id| {
                            let next = self.core.next_tick(&id);
                            (id, next)
                        })
                        .collect(),
                );
                Vec::new()
            }
        };
        self.execute(actions);
    }

    /// A task in flight ended: forget it, and answer a release waiting for its job.
    fn task_done(&mut self, id: tokio::task::Id) {
        let Some(job_id) = self.task_jobs.remove(&id) else {
            return;
        };
        let idle = match self.job_tasks.get_mut(&job_id) {
            Some(tasks) => {
                tasks.remove(&id);
                tasks.is_empty()
            }
            None => true,
        };
        if idle {
            self.job_tasks.remove(&job_id);
            if let Some((epoch, reply)) = self.releasing.remove(&job_id) {
                let _ = reply.send(Some(epoch));
            }
        }
    }

    /// Cancel the tasks in flight of a job this replica no longer owns (fenced: nothing they
    /// would still write is accepted; the new owner records their runs abandoned).
    fn cancel_tasks(&mut self, job_id: &str) {
        if let Some(tasks) = self.job_tasks.get(job_id) {
            if !tasks.is_empty() {
                tracing::warn!(
                    job_id,
                    cancelled = tasks.len(),
                    "cancelling runs of a job owned elsewhere now"
                );
            }
            for handle in tasks.values() {
                handle.abort();
            }
        }
        // A release of a job that is dropped meanwhile is not handed over by this replica.
        if let Some((_, reply)) = self.releasing.remove(job_id) {
            let _ = reply.send(None);
        }
    }

    /// Track a spawned task as working for `job_id`.
    fn track(&mut self, job_id: &str, handle: tokio::task::AbortHandle) {
        self.task_jobs.insert(handle.id(), job_id.to_owned());
        self.job_tasks
            .entry(job_id.to_owned())
            .or_default()
            .insert(handle.id(), handle);
    }

    fn on_end(&mut self, job_id: &str, tick_ms: i64, end: RunEnd) {
        let actions = match end {
            RunEnd::Done => self.core.finished(job_id),
            RunEnd::Stalled => {
                self.core.stalled(job_id, tick_ms, true);
                Vec::new()
            }
            RunEnd::RecordStalled => {
                self.core.stalled(job_id, tick_ms, false);
                Vec::new()
            }
            RunEnd::Fenced => {
                tracing::warn!(
                    job = job_id,
                    "fenced: the job is owned elsewhere now; dropping it"
                );
                self.core.remove(job_id);
                Vec::new()
            }
        };
        self.execute(actions);
    }

    fn execute(&mut self, actions: Vec<Action>) {
        for action in actions {
            let executor = self.executor.clone();
            let ends = self.ends_tx.clone();
            match action {
                Action::Run {
                    job,
                    tick_ms,
                    catch_up,
                } => {
                    let job_id = job.id.clone();
                    let handle = self.in_flight.spawn(async move {
                        let id = job.id.clone();
                        let end = executor.run_tick(job, tick_ms, catch_up).await;
                        let _ = ends.send((id, tick_ms, end));
                    });
                    self.track(&job_id, handle);
                }
                Action::Record {
                    job,
                    ticks,
                    unlisted_missed,
                    unlisted_range,
                } => {
                    let job_id = job.id.clone();
                    let handle = self.in_flight.spawn(async move {
                        if let Some(end) = executor
                            .record_not_run(&job, &ticks, unlisted_missed, unlisted_range)
                            .await
                        {
                            let first = ticks.first().map(|t| t.0).unwrap_or(0);
                            let _ = ends.send((job.id.clone(), first, end));
                        }
                    });
                    self.track(&job_id, handle);
                }
            }
        }
    }
}

#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod tests;
