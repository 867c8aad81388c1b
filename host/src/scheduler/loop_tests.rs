//! The scheduler loop with an executor whose runs are held open: a job released for handoff
//! stops ticking at once and is answered only after its run in flight has finished; a job
//! dropped because it is owned elsewhere has its run in flight cancelled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Semaphore, mpsc};

use super::tests::every_second;
use super::{Command, DbClock, Execute, JobSpec, NotRun, RunEnd, Scheduler};
use crate::schedule::{MisfirePolicy, OverlapPolicy};

/// Runs report their start and then wait for a permit of `gate`.
struct Gated {
    started: mpsc::UnboundedSender<i64>,
    gate: Arc<Semaphore>,
    cancelled: Arc<AtomicBool>,
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
    ) -> BoxFuture<'a, Option<RunEnd>> {
        Box::pin(async { None })
    }
}

struct Harness {
    handle: super::SchedulerHandle,
    started: mpsc::UnboundedReceiver<i64>,
    gate: Arc<Semaphore>,
    cancelled: Arc<AtomicBool>,
}

fn start() -> Harness {
    let (tx, started) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let cancelled = Arc::new(AtomicBool::new(false));
    let executor = Arc::new(Gated {
        started: tx,
        gate: gate.clone(),
        cancelled: cancelled.clone(),
    });
    let (scheduler, handle) = Scheduler::new(DbClock::new(0), executor);
    tokio::spawn(scheduler.run(std::future::pending(), Duration::from_secs(1)));
    handle.send(Command::Take {
        spec: every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        last_accounted_ms: 0,
    });
    Harness {
        handle,
        started,
        gate,
        cancelled,
    }
}

#[tokio::test]
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
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(h.started.try_recv().is_err(), "a released job ticked again");
    assert!(h.handle.versions().await.is_empty());
    assert_eq!(h.handle.release("job").await, None, "not held any more");
}

#[tokio::test]
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
