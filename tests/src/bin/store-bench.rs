//! Sustained run-recording throughput of the store: how many runs per second are durably
//! begun and finished, on SQLite, PostgreSQL and MariaDB, batched and one statement at a time.
//!
//! `cargo run --release -p wasmcron-e2e --bin store-bench -- [--seconds N] [--batch N]
//! [--workers N] [--jobs N] [--only sqlite|postgres|mariadb]`
//!
//! Each worker loops: begin a batch of ticks, then finish the started runs; the unbatched
//! baseline does the same with `begin_run` + `finish_run` per run. PostgreSQL runs with
//! `fsync=on` and synchronous commit (every committed run is on disk), MariaDB with the log
//! flushed at every commit (`innodb_flush_log_at_trx_commit=1`); SQLite runs in WAL mode
//! with `synchronous=NORMAL`, as the store configures it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use wasmcron::store::{BeginRun, FinishRun, Finished, NewJob, NewRun, RunStatus, Store};
use wasmcron_e2e::mariadb::{MariaDbOptions, MariaDbServer};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

const INSTANCE: &str = "bench";

#[derive(Debug, Clone)]
struct Settings {
    seconds: u64,
    batch: usize,
    workers: usize,
    jobs: usize,
    only: Option<String>,
}

impl Settings {
    fn from_args() -> anyhow::Result<Settings> {
        let mut settings = Settings {
            seconds: 5,
            batch: 256,
            workers: 4,
            jobs: 100,
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--seconds" => settings.seconds = value()?.parse()?,
                "--batch" => settings.batch = value()?.parse()?,
                "--workers" => settings.workers = value()?.parse()?,
                "--jobs" => settings.jobs = value()?.parse()?,
                "--only" => settings.only = Some(value()?),
                other => bail!("unknown argument {other}"),
            }
        }
        Ok(settings)
    }
}

/// Jobs owned by the bench instance, with their epochs.
async fn prepare(store: &Store, jobs: usize) -> anyhow::Result<Vec<(String, i64)>> {
    store.migrate().await?;
    for i in 0..jobs {
        store
            .create_job(NewJob::new(format!("bench-{i:05}"), "* * * * * *", "bench"))
            .await?;
    }
    store.heartbeat(INSTANCE, "127.0.0.1:0", "bench").await?;
    let owned = store.claim_jobs(INSTANCE, 60_000).await?;
    Ok(owned.into_iter().map(|j| (j.id, j.epoch)).collect())
}

fn finish() -> FinishRun {
    FinishRun {
        status: RunStatus::Succeeded,
        result: Some("ok".into()),
        error: None,
        logs: Some("bench run\n".into()),
    }
}

/// Unique ticks: a shared counter spread over the jobs.
struct TickSource {
    jobs: Vec<(String, i64)>,
    next: AtomicI64,
}

impl TickSource {
    fn take(&self) -> NewRun {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let (job_id, epoch) = &self.jobs[(n as usize) % self.jobs.len()];
        NewRun {
            job_id: job_id.clone(),
            scheduled_at_ms: 1_000_000 + n,
            instance_id: INSTANCE.into(),
            epoch: *epoch,
            plugin_digest: Some("sha256:bench".into()),
            attempt: 1,
            catch_up: false,
            manual: false,
        }
    }
}

/// Runs `workers` loops for `seconds`; returns completed runs per second.
async fn measure(
    store: &Store,
    ticks: &Arc<TickSource>,
    settings: &Settings,
    batched: bool,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(settings.seconds);
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..settings.workers {
        let store = store.clone();
        let ticks = ticks.clone();
        let batch = settings.batch;
        tasks.push(tokio::spawn(async move {
            let mut done: u64 = 0;
            while Instant::now() < deadline {
                if batched {
                    let runs: Vec<NewRun> = (0..batch).map(|_| ticks.take()).collect();
                    let answers = store.begin_runs(&runs).await?;
                    let finishes: Vec<(i64, i64, FinishRun)> = answers
                        .iter()
                        .zip(&runs)
                        .filter_map(|(answer, run)| match answer {
                            BeginRun::Started(id) => Some((*id, run.epoch, finish())),
                            _ => None,
                        })
                        .collect();
                    let finished = store.finish_runs(&finishes).await?;
                    done += finished.iter().filter(|f| **f == Finished::Ok).count() as u64;
                } else {
                    let run = ticks.take();
                    if let BeginRun::Started(id) = store.begin_run(&run).await?
                        && store.finish_run(id, run.epoch, &finish()).await? == Finished::Ok
                    {
                        done += 1;
                    }
                }
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / began.elapsed().as_secs_f64())
}

async fn bench_backend(name: &str, url: &str, settings: &Settings) -> anyhow::Result<(f64, f64)> {
    let store = Store::connect(url).await?;
    let jobs = prepare(&store, settings.jobs).await?;
    let ticks = Arc::new(TickSource {
        jobs,
        next: AtomicI64::new(0),
    });
    // Warm up connections and statement caches.
    measure(
        &store,
        &ticks,
        &Settings {
            seconds: 1,
            ..settings.clone()
        },
        true,
    )
    .await?;
    let batched = measure(&store, &ticks, settings, true).await?;
    let single = measure(&store, &ticks, settings, false).await?;
    println!(
        "{name:<10} batched {batched:>9.0} runs/s   single-statement {single:>8.0} runs/s   ratio {:>5.1}x",
        batched / single
    );
    store.close().await;
    Ok((batched, single))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_args()?;
    println!(
        "store-bench: {}s per measurement, {} workers, batches of {}, {} jobs",
        settings.seconds, settings.workers, settings.batch, settings.jobs
    );
    let wants = |backend: &str| settings.only.as_deref().is_none_or(|only| only == backend);

    if wants("sqlite") {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        bench_backend("sqlite", &url, &settings).await?;
    }
    if wants("postgres") {
        let server = PgServer::start_with(PgOptions {
            fsync: true,
            listen: Listen::Tcp,
            ..PgOptions::default()
        })?;
        let url = server.create_database("bench")?;
        bench_backend("postgres", &url, &settings).await?;
    }
    if wants("mariadb") {
        let server = MariaDbServer::start_with_options(MariaDbOptions {
            listen: Listen::Tcp,
            durable: true,
            ..MariaDbOptions::default()
        })?;
        let url = server.create_database("bench")?;
        bench_backend("mariadb", &url, &settings).await?;
    }
    Ok(())
}
