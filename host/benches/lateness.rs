//! Fire lateness (scheduled instant → call start) with 10,000 jobs on a one-second schedule on
//! one replica: wasmcron's scheduler (its real loop and timer structure, with a no-op executor
//! in place of the database and plugin) against tokio-cron-scheduler driving the same 10,000
//! no-op callbacks, in the same process, one after the other. Lateness is measured from the
//! scheduled instant on the wall clock to the moment `run_tick` is called for the tick.
//!
//! `cargo bench -p wasmcron --bench lateness [-- --jobs N --seconds S]`

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use wasmcron::clock::DbClock;
use wasmcron::jobs::JobSpec;
use wasmcron::schedule::{JobTiming, MisfirePolicy, OverlapPolicy, Schedule};
use wasmcron::scheduler::{Command, Execute, NotRun, RunEnd, Scheduler};

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// The bench's stand-in for the database clock, reading the wall clock the lateness is measured
/// against: anchored on a millisecond boundary, since a reading truncated to the millisecond
/// would leave it up to 1 ms slow, and every tick fired that much later. Returns it with the
/// millisecond it was anchored at.
fn db_clock() -> (DbClock, i64) {
    let start_ms = now_us() / 1000;
    loop {
        let now_ms = now_us() / 1000;
        if now_ms > start_ms {
            return (DbClock::new(now_ms), now_ms);
        }
        std::hint::spin_loop();
    }
}

#[derive(Default)]
struct Noop {
    lateness_us: Mutex<Vec<i64>>,
    window: Mutex<(i64, i64)>,
}

impl Execute for Noop {
    fn run_tick(&self, _job: Arc<JobSpec>, tick_ms: i64, _catch_up: bool) -> BoxFuture<'_, RunEnd> {
        let late = now_us() - tick_ms * 1000;
        let (from, to) = *self.window.lock().unwrap();
        if tick_ms >= from && tick_ms < to {
            self.lateness_us.lock().unwrap().push(late);
        }
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
        panic!("no tick may be skipped or missed in this bench: {ticks:?}");
    }
}

fn spec(i: usize, schedule: &Schedule) -> Arc<JobSpec> {
    Arc::new(JobSpec {
        id: format!("job-{i}"),
        name: format!("job-{i}"),
        plugin: "noop".into(),
        input: "null".into(),
        config: Arc::default(),
        secrets: Arc::default(),
        timing: JobTiming::new(schedule.clone(), chrono_tz::UTC, Duration::ZERO),
        overlap: OverlapPolicy::Allow,
        misfire: MisfirePolicy::RunOnce,
        catchup_window: Duration::from_secs(3600),
        timeout: None,
        memory_limit: None,
        allowed_hosts: Vec::new(),
        failure: Default::default(),
        paused: false,
        version: 1,
        epoch: 1,
        anchor_ms: 0,
    })
}

struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
    count: usize,
}

fn stats(mut v: Vec<i64>) -> Stats {
    v.sort();
    let pick = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)] as f64 / 1000.0;
    Stats {
        p50: pick(0.5),
        p99: pick(0.99),
        max: *v.last().unwrap() as f64 / 1000.0,
        count: v.len(),
    }
}

async fn wasmcron_lateness(jobs: usize, seconds: i64) -> Stats {
    let noop = Arc::new(Noop::default());
    let (clock, start_ms) = db_clock();
    let (scheduler, handle) = Scheduler::new(clock, noop.clone());
    let schedule = Schedule::parse("* * * * * *").unwrap();
    for i in 0..jobs {
        handle.send(Command::Take {
            spec: spec(i, &schedule),
            last_accounted_ms: start_ms,
            recorded: Default::default(),
        });
    }
    // Measure whole seconds after a warm-up second.
    let from = (start_ms / 1000 + 2) * 1000;
    *noop.window.lock().unwrap() = (from, from + seconds * 1000);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(scheduler.run(
        async {
            let _ = stop_rx.await;
        },
        Duration::from_secs(5),
    ));
    let until = from + seconds * 1000 + 500;
    tokio::time::sleep(Duration::from_millis(
        (until - now_us() / 1000).max(0) as u64
    ))
    .await;
    let _ = stop_tx.send(());
    task.await.unwrap();
    let v = std::mem::take(&mut *noop.lateness_us.lock().unwrap());
    assert_eq!(
        v.len(),
        jobs * seconds as usize,
        "every tick fired exactly once"
    );
    stats(v)
}

async fn tokio_cron_scheduler_lateness(jobs: usize, seconds: i64) -> Stats {
    use tokio_cron_scheduler::{Job, JobScheduler};
    let samples = Arc::new(Mutex::new(Vec::with_capacity(jobs * seconds as usize)));
    let sched = JobScheduler::new().await.unwrap();
    let start_ms = now_us() / 1000;
    let from = (start_ms / 1000 + 3) * 1000;
    let to = from + seconds * 1000;
    for _ in 0..jobs {
        let samples = samples.clone();
        let job = Job::new_async("* * * * * *", move |_id, _l| {
            let samples = samples.clone();
            Box::pin(async move {
                let now = now_us();
                // The scheduled instant of a one-second schedule is the second boundary.
                let tick_ms = now / 1_000_000 * 1000;
                if tick_ms >= from && tick_ms < to {
                    samples.lock().unwrap().push(now - tick_ms * 1000);
                }
            })
        })
        .unwrap();
        sched.add(job).await.unwrap();
    }
    sched.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(
        (to + 1500 - now_us() / 1000).max(0) as u64
    ))
    .await;
    let mut sched = sched;
    sched.shutdown().await.unwrap();
    let v = std::mem::take(&mut *samples.lock().unwrap());
    stats(v)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: i64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let jobs = arg("--jobs", 10_000) as usize;
    let seconds = arg("--seconds", 10);
    println!("## fire lateness, {jobs} jobs on `* * * * * *`, {seconds} s measured, one process");
    println!("| scheduler | ticks | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    let ours = wasmcron_lateness(jobs, seconds).await;
    let theirs = tokio_cron_scheduler_lateness(jobs, seconds).await;
    println!(
        "| tokio-cron-scheduler 0.15 (baseline) | {} | {:.2} | {:.2} | {:.2} |",
        theirs.count, theirs.p50, theirs.p99, theirs.max
    );
    println!(
        "| wasmcron | {} | {:.2} | {:.2} | {:.2} |",
        ours.count, ours.p50, ours.p99, ours.max
    );
    println!(
        "ratio (baseline / wasmcron): p50 {:.1}x, p99 {:.1}x; ticks delivered: wasmcron {} of {}, baseline {} of {}",
        theirs.p50 / ours.p50,
        theirs.p99 / ours.p99,
        ours.count,
        jobs * seconds as usize,
        theirs.count,
        jobs * seconds as usize
    );
}
