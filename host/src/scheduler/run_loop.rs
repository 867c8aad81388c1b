//! The scheduler loop: owns the [`SchedulerCore`], sleeps until the next deadline (precisely
//! after a quiet spell), fires due ticks in parts, acts on commands and on runs that ended,
//! and on stop drains the runs in flight within the grace period.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{Notify, mpsc};

use super::command::{Command, SchedulerHandle};
use super::core::{Action, SchedulerCore};
use super::dispatch::{Dispatch, Ended, Execute, JobRuns, Local, Shared, run_one, start};
use super::execute::RunEnd;
use super::slab::KeyedVec;
use crate::clock::DbClock;

/// Most runs one start task begins (see [`Scheduler::execute`]).
const RUNS_PER_START_TASK: usize = 64;

/// Parts of a burst handed out between two turns of the loop's worker at the runs handed out
/// so far (see [`Scheduler::run`]).
const PARTS_PER_TURN: usize = 2;

/// Fired jobs whose next tick the loop computes between two looks at the runtime's other work.
const REARM_PER_TURN: usize = 256;

/// tokio's timer works in whole milliseconds and wakes up to ~2 ms after the deadline. For a
/// deadline that comes after a quiet spell (at least [`QUIET_BEFORE_PRECISE`] after the last
/// wake-up) the loop sleeps until this much before it and then yields until the clock reaches
/// it, so a burst due at one instant starts on time. Close deadlines use the timer alone, so
/// the early wake-ups cost at most a few percent of one core.
const EARLY_WAKE: std::time::Duration = std::time::Duration::from_millis(2);
/// See [`EARLY_WAKE`].
const QUIET_BEFORE_PRECISE: std::time::Duration = std::time::Duration::from_millis(20);
/// Longest real time spent yielding towards a deadline (the clock may be paused in tests).
const PRECISE_BUDGET: std::time::Duration = std::time::Duration::from_millis(4);

/// The scheduler loop.
pub struct Scheduler {
    core: SchedulerCore,
    clock: DbClock,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<Command>,
    ends_rx: mpsc::UnboundedReceiver<Vec<Ended>>,
    /// Runs handed out whose end has not come back yet.
    in_flight: usize,
    /// When the timer last woke the loop.
    last_wake: tokio::time::Instant,
    /// Per job id held or with runs in flight: its runs.
    tracked: HashMap<String, Arc<JobRuns>>,
    /// The same by the key the job is held under now, for handing out runs without hashing
    /// job ids (a key leaves when its job stops being held under it).
    by_key: KeyedVec<Arc<JobRuns>>,
    /// Releases waiting for the job's runs to finish: (epoch, reply).
    releasing: HashMap<String, (i64, tokio::sync::oneshot::Sender<Option<i64>>)>,
    /// Manual triggers whose run is under way (offered again meanwhile: ignored).
    manual: HashSet<i64>,
}

impl Scheduler {
    pub fn new(clock: DbClock, executor: Arc<dyn Execute>) -> (Self, SchedulerHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ends, ends_rx) = mpsc::unbounded_channel();
        (
            Scheduler {
                core: SchedulerCore::new(),
                clock,
                shared: Arc::new(Shared {
                    executor,
                    ends,
                    stopping: AtomicBool::new(false),
                    stop: Notify::new(),
                }),
                rx,
                ends_rx,
                in_flight: 0,
                last_wake: tokio::time::Instant::now(),
                tracked: HashMap::new(),
                by_key: KeyedVec::default(),
                releasing: HashMap::new(),
                manual: HashSet::new(),
            },
            SchedulerHandle::new(tx),
        )
    }

    /// Run until `stop` resolves; then stop starting ticks and wait up to `grace` for runs in
    /// flight. Runs still going after the grace period are cancelled and recorded as failed.
    pub async fn run(mut self, stop: impl Future<Output = ()>, grace: std::time::Duration) {
        tokio::pin!(stop);
        loop {
            if self.core.has_fired() {
                // Ticks were just handed out: let their runs start before the next ticks of
                // the fired jobs are computed, a part at a time (thousands in a burst).
                tokio::task::yield_now().await;
                self.core.rearm_fired_at_most(REARM_PER_TURN);
                if self.core.has_fired() {
                    continue;
                }
            }
            let deadline = self.core.next_deadline();
            // Precise only when the deadline comes after a quiet spell since the last wake-up.
            let due_at = deadline.map(|at| self.clock.instant_at(at));
            let precise = due_at.is_some_and(|due| {
                due.saturating_duration_since(self.last_wake) >= QUIET_BEFORE_PRECISE
            });
            let sleep =
                match due_at {
                    Some(due) => {
                        let wake = if precise {
                            due.checked_sub(EARLY_WAKE).unwrap_or(due)
                        } else {
                            due
                        };
                        tokio::time::sleep_until(wake.min(
                            tokio::time::Instant::now() + std::time::Duration::from_secs(3600),
                        ))
                    }
                    None => tokio::time::sleep(std::time::Duration::from_secs(3600)),
                };
            tokio::select! {
                biased;
                _ = &mut stop => break,
                Some(ended) = self.ends_rx.recv() => {
                    self.on_ended(ended);
                    // A burst ends in a burst: take what has come in at once.
                    while let Ok(ended) = self.ends_rx.try_recv() {
                        self.on_ended(ended);
                    }
                }
                Some(command) = self.rx.recv() => self.on_command(command),
                _ = sleep => {
                    if precise && let Some(at) = deadline {
                        self.wait_precisely(at).await;
                    }
                    self.last_wake = tokio::time::Instant::now();
                    let now = self.clock.now_ms();
                    // Hand the due runs out in parts as they are decided: the first ones
                    // start while the rest of a burst is still being worked through. Every
                    // few parts this worker begins the runs handed out so far itself, so they
                    // do not wait for the whole burst (nor for another worker to wake up).
                    let mut parts = 0;
                    while self.core.has_due(now) {
                        let actions = self.core.fire_due_at_most(now, RUNS_PER_START_TASK);
                        self.execute(actions);
                        parts += 1;
                        if parts % PARTS_PER_TURN == 0 && self.core.has_due(now) {
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }
        }
        tracing::info!(
            in_flight = self.in_flight,
            "scheduler stopping: no new ticks"
        );
        // Retries waiting for their due time stop waiting: their plans stay in the database,
        // for the jobs' next owners.
        self.shared.executor.stop_waiting();
        if tokio::time::timeout(grace, self.drain()).await.is_err() {
            tracing::warn!(
                cancelled = self.in_flight,
                "grace period over: cancelling runs still in flight"
            );
            self.shared.executor.cancel_in_flight();
            self.shared.stopping.store(true, Ordering::SeqCst);
            self.shared.stop.notify_waiters();
            self.drain().await;
            self.shared.executor.record_cancelled().await;
        }
    }

    /// Yield until the clock reads `at` (woken early on purpose, see [`EARLY_WAKE`]); past
    /// [`PRECISE_BUDGET`] of real time, sleep until it instead.
    async fn wait_precisely(&self, at: i64) {
        let started = std::time::Instant::now();
        while self.clock.now_ms() < at {
            if started.elapsed() > PRECISE_BUDGET {
                tokio::time::sleep_until(self.clock.instant_at(at)).await;
                return;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Wait for every run in flight to end, starting nothing new.
    async fn drain(&mut self) {
        while self.in_flight > 0 {
            match self.ends_rx.recv().await {
                Some(ended) => {
                    for ended in ended {
                        self.in_flight -= 1;
                        ended.runs.in_flight.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                None => break,
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        let now = self.clock.now_ms();
        let actions = match command {
            Command::Take {
                spec,
                last_accounted_ms,
                recorded,
            } => {
                if self
                    .core
                    .spec(&spec.id)
                    .is_some_and(|held| held.epoch != spec.epoch)
                {
                    // Held under an older epoch: whatever still runs under it is fenced.
                    self.cancel_tasks(&spec.id);
                }
                self.retire_key(&spec.id);
                self.core
                    .take_around(spec, last_accounted_ms, recorded, now)
            }
            Command::Recorded { job_id, ticks } => {
                self.core.note_recorded(&job_id, ticks);
                Vec::new()
            }
            Command::Update(spec) => self.core.update(spec, now),
            Command::Drop(id) => {
                self.retire_key(&id);
                self.core.remove(&id);
                self.cancel_tasks(&id);
                self.forget_if_idle(&id);
                Vec::new()
            }
            Command::Release { job_id, reply } => {
                self.retire_key(&job_id);
                match self.core.remove(&job_id) {
                    None => {
                        let _ = reply.send(None);
                    }
                    Some(spec) if self.runs_of(&job_id) == 0 => {
                        self.tracked.remove(&job_id);
                        let _ = reply.send(Some(spec.epoch));
                    }
                    Some(spec) => {
                        // A run waiting for a retry's due time ends now; its plan stays in
                        // the database for the job's next owner.
                        self.shared.executor.stop_waiting_for(&job_id, spec.epoch);
                        self.releasing.insert(job_id, (spec.epoch, reply));
                    }
                }
                Vec::new()
            }
            Command::Manual {
                job_id,
                tick_ms,
                trigger_id,
            } => {
                if self.manual.contains(&trigger_id) {
                    return;
                }
                match self.core.manual(&job_id, tick_ms, trigger_id) {
                    Ok(action) => vec![action],
                    Err(wait) => {
                        tracing::debug!(job_id, trigger_id, ?wait, "manual trigger waits");
                        Vec::new()
                    }
                }
            }
            Command::Retry {
                job_id,
                tick_ms,
                attempt,
                catch_up,
                manual,
            } => self
                .core
                .retry(&job_id, tick_ms, attempt, (catch_up, manual))
                .into_iter()
                .collect(),
            Command::ClusterPaused(paused) => self.core.set_cluster_paused(paused, now),
            Command::Stalled(reply) => {
                let _ = reply.send(self.core.stalled_cursors());
                Vec::new()
            }
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

    /// Runs of `job_id` in flight.
    fn runs_of(&self, job_id: &str) -> usize {
        self.tracked
            .get(job_id)
            .map_or(0, |runs| runs.in_flight.load(Ordering::Relaxed))
    }

    /// The job stops being held under its current key (it is dropped, released or re-taken).
    fn retire_key(&mut self, job_id: &str) {
        if let Some(key) = self.core.key_of(job_id) {
            self.by_key.remove(key);
        }
    }

    /// Runs ended: act on each end, then, once its job has nothing in flight, answer a release
    /// waiting for it and forget a job no longer held.
    fn on_ended(&mut self, ended: Vec<Ended>) {
        for mut ended in ended {
            self.in_flight -= 1;
            ended.runs.in_flight.fetch_sub(1, Ordering::Relaxed);
            if let Some(trigger_id) = ended.trigger_id {
                self.manual.remove(&trigger_id);
                if ended.end == Some(RunEnd::Stalled) {
                    // Not recorded (database unavailable): the trigger stays pending and is
                    // offered again; the job's schedule is not re-planned for it.
                    ended.end = Some(RunEnd::Done);
                }
            }
            let job_id = ended.runs.job_id.as_str();
            match ended.end {
                // The common case, without looking the job up by id.
                Some(RunEnd::Done) if self.core.holds_key(ended.key) => {
                    let actions = self.core.finished_key(ended.key, ended.tick_ms);
                    self.execute(actions);
                }
                Some(end) => self.on_end(job_id, ended.tick_ms, end),
                None => {}
            }
            if ended.runs.in_flight.load(Ordering::Relaxed) == 0 {
                if !self.releasing.is_empty()
                    && let Some((epoch, reply)) = self.releasing.remove(job_id)
                {
                    self.shared.executor.released(job_id, epoch);
                    let _ = reply.send(Some(epoch));
                }
                if !self.core.holds_key(ended.key) {
                    self.forget_if_idle(job_id);
                }
            }
        }
    }

    /// Drop the bookkeeping of a job that is neither held nor running.
    fn forget_if_idle(&mut self, job_id: &str) {
        if self.runs_of(job_id) == 0 && !self.core.owns(job_id) {
            self.tracked.remove(job_id);
        }
    }

    /// Cancel the runs in flight of a job this replica no longer owns (fenced: nothing they
    /// would still write is accepted; the new owner records their runs abandoned).
    fn cancel_tasks(&mut self, job_id: &str) {
        if let Some(runs) = self.tracked.get(job_id) {
            let in_flight = runs.in_flight.load(Ordering::Relaxed);
            if in_flight > 0 {
                tracing::warn!(
                    job_id,
                    cancelled = in_flight,
                    "cancelling runs of a job owned elsewhere now"
                );
            }
            runs.generation.fetch_add(1, Ordering::SeqCst);
            runs.cancel.notify_waiters();
        }
        // A release of a job that is dropped meanwhile is not handed over by this replica.
        if let Some((epoch, reply)) = self.releasing.remove(job_id) {
            self.shared.executor.released(job_id, epoch);
            let _ = reply.send(None);
        }
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
                self.retire_key(job_id);
                self.core.remove(job_id);
                Vec::new()
            }
        };
        self.execute(actions);
    }

    /// Hand actions to the executor. Runs are begun by start tasks of up to
    /// [`RUNS_PER_START_TASK`] runs rather than by one task each: a start task begins its runs
    /// one after the other (each up to the point where it first waits, when it continues in a
    /// task of its own), so a burst of thousands of ticks due at one instant costs a few
    /// spawns, and the workers share it.
    fn execute(&mut self, actions: Vec<Action>) {
        let mut batch = Vec::with_capacity(actions.len().min(RUNS_PER_START_TASK));
        for action in actions {
            let (job, key) = match &action {
                Action::Manual {
                    job,
                    key,
                    trigger_id,
                    ..
                } => {
                    // Offered again while it runs: ignored.
                    self.manual.insert(*trigger_id);
                    (job, *key)
                }
                Action::Run { job, key, .. }
                | Action::Retry { job, key, .. }
                | Action::Record { job, key, .. } => (job, *key),
            };
            let runs = match self.by_key.get(key) {
                Some(runs) => runs,
                None => {
                    let runs = self
                        .tracked
                        .entry(job.id.clone())
                        .or_insert_with(|| {
                            Arc::new(JobRuns {
                                job_id: job.id.clone(),
                                in_flight: AtomicUsize::new(0),
                                generation: AtomicU64::new(0),
                                cancel: Notify::new(),
                            })
                        })
                        .clone();
                    self.by_key.insert(key, runs);
                    self.by_key.get(key).expect("just stored")
                }
            };
            runs.in_flight.fetch_add(1, Ordering::Relaxed);
            self.in_flight += 1;
            batch.push(Dispatch {
                generation: runs.generation.load(Ordering::SeqCst),
                runs: runs.clone(),
                action,
            });
            if batch.len() == RUNS_PER_START_TASK {
                tokio::spawn(start(self.shared.clone(), std::mem::take(&mut batch)));
            }
        }
        match batch.pop() {
            Some(dispatch) if batch.is_empty() => {
                let shared = Arc::new(Local(self.shared.clone()));
                tokio::spawn(async move {
                    let ended = run_one(shared.clone(), dispatch).await;
                    let _ = shared.ends.send(vec![ended]);
                });
            }
            Some(dispatch) => {
                batch.push(dispatch);
                tokio::spawn(start(self.shared.clone(), batch));
            }
            None => {}
        }
    }
}
