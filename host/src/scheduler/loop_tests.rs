//! The scheduler loop with an executor whose runs are held open: a job released for handoff
//! stops ticking at once and is answered only after its run in flight has finished; a job
//! dropped because it is owned elsewhere has its run in flight cancelled.
//!
//! Every test runs on tokio's paused clock (`start_paused`), which [`DbClock`] reads: the
//! clock moves on only when every task is waiting, straight to the next timer. A sleep of the
//! test is then a point in the schedule, reached after everything due before it has happened,
//! and the tests take milliseconds. (The loop's precise wait before a deadline yields for at
//! most a few milliseconds of real time, then sleeps on the paused clock.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Semaphore, mpsc};

use super::tests::every_second;
use super::{Command, Execute, NotRun, RunEnd, Scheduler};
use crate::clock::DbClock;
use crate::jobs::JobSpec;
use crate::schedule::{MisfirePolicy, OverlapPolicy};

/// What the loop told an executor of releases: `(job, epoch, "stop waiting" | "released")`.
type Releases = Arc<Mutex<Vec<(String, i64, &'static str)>>>;

/// Runs report their start and then wait for a permit of `gate`.
struct Gated {
    started: mpsc::UnboundedSender<i64>,
    gate: Arc<Semaphore>,
    cancelled: Arc<AtomicBool>,
    releases: Releases,
}

/// Sets the flag when a run is dropped before it finished.
struct CancelGuard(Arc<AtomicBool>, bool);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

impl Execute for Gated {
    fn run_tick(&self, _job: Arc<JobSpec>, tick_ms: i64, _catch_up: bool) -> BoxFuture<'_, RunEnd> {
        Box::pin(async move {
            let mut guard = CancelGuard(self.cancelled.clone(), false);
            let _ = self.started.send(tick_ms);
            self.gate.acquire().await.expect("gate").forget();
            guard.1 = true;
            RunEnd::Done
        })
    }

    fn record_not_run<'a>(
        &'a self,
        _job: &'a JobSpec,
        _ticks: &'a [(i64, NotRun)],
        _unlisted_missed: u64,
        _unlisted_range: Option<(i64, i64)>,
        _after_run: Option<i64>,
    ) -> BoxFuture<'a, Option<RunEnd>> {
        Box::pin(async { None })
    }

    fn stop_waiting_for(&self, job_id: &str, epoch: i64) {
        let call = (job_id.to_owned(), epoch, "stop waiting");
        self.releases.lock().unwrap().push(call);
    }

    fn released(&self, job_id: &str, epoch: i64) {
        let call = (job_id.to_owned(), epoch, "released");
        self.releases.lock().unwrap().push(call);
    }
}

struct Harness {
    handle: super::SchedulerHandle,
    started: mpsc::UnboundedReceiver<i64>,
    gate: Arc<Semaphore>,
    cancelled: Arc<AtomicBool>,
    releases: Releases,
}

fn start() -> Harness {
    let (tx, started) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let cancelled = Arc::new(AtomicBool::new(false));
    let releases = Arc::new(Mutex::new(Vec::new()));
    let executor = Arc::new(Gated {
        started: tx,
        gate: gate.clone(),
        cancelled: cancelled.clone(),
        releases: releases.clone(),
    });
    let (scheduler, handle) = Scheduler::new(DbClock::new(0), executor);
    tokio::spawn(scheduler.run(std::future::pending(), Duration::from_secs(1)));
    handle.send(Command::Take {
        spec: every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        last_accounted_ms: 0,
        recorded: Default::default(),
    });
    Harness {
        handle,
        started,
        gate,
        cancelled,
        releases,
    }
}

#[tokio::test(start_paused = true)]
async fn a_released_job_stops_at_once_and_is_answered_after_its_run_finishes() {
    let mut h = start();
    assert_eq!(h.started.recv().await, Some(1000));
    let handle = h.handle.clone();
    let release = tokio::spawn(async move { handle.release("job").await });
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !release.is_finished(),
        "answered while its run is in flight"
    );
    h.gate.add_permits(1);
    assert_eq!(
        release.await.unwrap(),
        Some(1),
        "the epoch it was held under"
    );
    // Its waiting retries were told to stop, and, once its run ended, the release forgotten.
    assert_eq!(
        *h.releases.lock().unwrap(),
        [
            ("job".to_owned(), 1, "stop waiting"),
            ("job".to_owned(), 1, "released")
        ]
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(h.started.try_recv().is_err(), "a released job ticked again");
    assert!(h.handle.versions().await.is_empty());
    assert_eq!(h.handle.release("job").await, None, "not held any more");
}

#[tokio::test(start_paused = true)]
async fn a_manual_trigger_runs_once_and_a_release_waits_for_it_like_for_a_tick() {
    let mut h = start();
    // The trigger worker offers a pending trigger on every poll until its tick is recorded.
    for _ in 0..3 {
        h.handle.send(Command::Manual {
            job_id: "job".into(),
            tick_ms: 100,
            trigger_id: 9,
        });
    }
    assert_eq!(h.started.recv().await, Some(100));
    // The tick due at 1 s comes while the manual run is in progress: skipped, not started.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(
        h.started.try_recv().is_err(),
        "a second run started beside the manual one"
    );
    let handle = h.handle.clone();
    let release = tokio::spawn(async move { handle.release("job").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !release.is_finished(),
        "answered while the manual run is in flight"
    );
    h.gate.add_permits(1);
    assert_eq!(release.await.unwrap(), Some(1));
    assert!(
        h.started.try_recv().is_err(),
        "the trigger offered three times ran more than once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_owned_elsewhere_is_dropped_with_its_run_in_flight_cancelled() {
    let mut h = start();
    assert_eq!(h.started.recv().await, Some(1000));
    h.handle.send(Command::Drop("job".into()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        h.cancelled.load(Ordering::SeqCst),
        "the fenced run was not cancelled"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(h.started.try_recv().is_err(), "a dropped job ticked again");
}

/// Counts runs per job and the ticks recorded as not run.
#[derive(Default)]
struct Counting {
    runs: std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
    not_run: std::sync::atomic::AtomicUsize,
}

impl Execute for Counting {
    fn run_tick(&self, job: Arc<JobSpec>, tick_ms: i64, _catch_up: bool) -> BoxFuture<'_, RunEnd> {
        self.runs
            .lock()
            .unwrap()
            .entry(job.id.clone())
            .or_default()
            .push(tick_ms);
        Box::pin(async { RunEnd::Done })
    }

    fn record_not_run<'a>(
        &'a self,
        _job: &'a JobSpec,
        ticks: &'a [(i64, NotRun)],
        _unlisted_missed: u64,
        _unlisted_range: Option<(i64, i64)>,
        _after_run: Option<i64>,
    ) -> BoxFuture<'a, Option<RunEnd>> {
        self.not_run.fetch_add(ticks.len(), Ordering::SeqCst);
        Box::pin(async { None })
    }
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_jobs_due_at_one_instant_runs_every_tick_and_acts_on_every_end() {
    const JOBS: usize = 1000;
    let executor = Arc::new(Counting::default());
    let (scheduler, handle) = Scheduler::new(DbClock::new(0), executor.clone());
    tokio::spawn(scheduler.run(std::future::pending(), Duration::from_secs(1)));
    for i in 0..JOBS {
        let mut spec = (*every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce)).clone();
        spec.id = format!("job-{i}");
        handle.send(Command::Take {
            spec: Arc::new(spec),
            last_accounted_ms: 0,
            recorded: Default::default(),
        });
    }
    // With `skip`, a second tick runs only if the end of the first reached the loop. At 2.5 s
    // (paused clock) the ticks at 1 s and 2 s are due and everything they set off is done.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let ran_twice = {
        let runs = executor.runs.lock().unwrap();
        runs.len() == JOBS && runs.values().all(|ticks| ticks.len() >= 2)
    };
    assert!(ran_twice, "every job ran its first two ticks");
    for (job, ticks) in executor.runs.lock().unwrap().iter() {
        assert_eq!(
            &ticks[..2],
            &[1000, 2000],
            "{job} ran its ticks once, in order"
        );
    }
    assert_eq!(
        executor.not_run.load(Ordering::SeqCst),
        0,
        "no tick skipped"
    );
}

/// A scheduler running [`Gated`] with a stop switch, and whether `run` has returned.
async fn stoppable(
    grace: Duration,
) -> (
    Harness,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, started) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let cancelled = Arc::new(AtomicBool::new(false));
    let releases = Arc::new(Mutex::new(Vec::new()));
    let executor = Arc::new(Gated {
        started: tx,
        gate: gate.clone(),
        cancelled: cancelled.clone(),
        releases: releases.clone(),
    });
    let (scheduler, handle) = Scheduler::new(DbClock::new(0), executor);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(scheduler.run(
        async {
            let _ = stop_rx.await;
        },
        grace,
    ));
    handle.send(Command::Take {
        spec: every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        last_accounted_ms: 0,
        recorded: Default::default(),
    });
    let h = Harness {
        handle,
        started,
        gate,
        cancelled,
        releases,
    };
    (h, stop_tx, task)
}

#[tokio::test(start_paused = true)]
async fn a_stopping_scheduler_waits_for_its_runs_in_flight() {
    let (mut h, stop, task) = stoppable(Duration::from_secs(30)).await;
    assert_eq!(h.started.recv().await, Some(1000));
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!task.is_finished(), "stopped with a run in flight");
    h.gate.add_permits(1);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops once its run finished")
        .unwrap();
    assert!(!h.cancelled.load(Ordering::SeqCst), "the run was cancelled");
    assert!(
        h.started.try_recv().is_err(),
        "a tick started while stopping"
    );
}

#[tokio::test(start_paused = true)]
async fn runs_still_going_after_the_grace_period_are_cancelled() {
    let (mut h, stop, task) = stoppable(Duration::from_millis(200)).await;
    assert_eq!(h.started.recv().await, Some(1000));
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops after the grace period")
        .unwrap();
    assert!(
        h.cancelled.load(Ordering::SeqCst),
        "the run was not cancelled"
    );
}

/// Panics in its first run.
struct PanicsOnce(AtomicBool);

impl Execute for PanicsOnce {
    fn run_tick(
        &self,
        _job: Arc<JobSpec>,
        _tick_ms: i64,
        _catch_up: bool,
    ) -> BoxFuture<'_, RunEnd> {
        Box::pin(async move {
            if !self.0.swap(true, Ordering::SeqCst) {
                panic!("a run that panics");
            }
            RunEnd::Done
        })
    }

    fn record_not_run<'a>(
        &'a self,
        _job: &'a JobSpec,
        _ticks: &'a [(i64, NotRun)],
        _unlisted_missed: u64,
        _unlisted_range: Option<(i64, i64)>,
        _after_run: Option<i64>,
    ) -> BoxFuture<'a, Option<RunEnd>> {
        Box::pin(async { None })
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_that_panics_does_not_hold_up_its_job_release() {
    let executor = Arc::new(PanicsOnce(AtomicBool::new(false)));
    let (scheduler, handle) = Scheduler::new(DbClock::new(0), executor.clone());
    tokio::spawn(scheduler.run(std::future::pending(), Duration::from_secs(1)));
    handle.send(Command::Take {
        spec: every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        last_accounted_ms: 0,
        recorded: Default::default(),
    });
    // The first tick is due at 1 s (paused clock).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(executor.0.load(Ordering::SeqCst), "ran");
    let released = tokio::time::timeout(Duration::from_secs(5), handle.release("job"))
        .await
        .expect("release answered");
    assert_eq!(released, Some(1));
}
