//! What run history costs, on SQLite, PostgreSQL and MariaDB: the bytes a run takes in the
//! database (table and indexes, as written and compacted), what age-based retention costs per
//! run deleted against what recording costs per run in the same run, what a pass of the
//! per-job history limits (`runs.keep_succeeded`) costs per job, and — from the bytes per run — the
//! steady size of the history of 10,000 one-second jobs kept for an hour.
//!
//! `cargo run --release -p wasmcron-e2e --bin history-bench -- [--jobs N] [--ticks N]
//! [--only sqlite|postgres|mariadb]`
//!
//! The history is `--jobs` jobs (10,000) × `--ticks` one-second ticks (30), recorded through
//! the replica's batched path (begin, then finish), 4 workers, batches of 256. Each run is a
//! success whose result is `{"ok":true}` with one 40-byte log line, its plugin digest a real
//! `sha256:` digest's length and its replica's id a pod name's. Retention then deletes the
//! older half as housekeeping does (batches of 5,000, each job's newest run kept). Databases
//! run durable: PostgreSQL with `fsync=on`, MariaDB with the log flushed at every commit,
//! SQLite in WAL mode with `synchronous=NORMAL`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use wasmcron::store::{BeginRun, FinishRun, NewJob, NewRun, RunStatus, Store};
use wasmcron_e2e::cpu::{cpu_of, process_cpu};
use wasmcron_e2e::mariadb::{MariaDbOptions, MariaDbServer};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

const INSTANCE: &str = "wasmcron-7d9f8b6c5d-x2k4q";
const WORKERS: usize = 4;
const BATCH: usize = 256;
/// The first tick of the history (2026-12-01T00:00:00Z).
const BASE_MS: i64 = 1_796_083_200_000;
/// The steady state the figures are projected to: 10,000 one-second jobs, one hour kept,
/// plus one housekeeping interval (a minute) of runs waiting for the next pass.
const STEADY_RUNS: f64 = 10_000.0 * 3_660.0;

struct Settings {
    jobs: usize,
    ticks: usize,
    only: Option<String>,
}

fn settings() -> anyhow::Result<Settings> {
    let mut s = Settings {
        jobs: 10_000,
        ticks: 30,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--jobs" => s.jobs = value()?.parse()?,
            "--ticks" => s.ticks = value()?.parse()?,
            "--only" => s.only = Some(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(s)
}

/// The engine under measurement: its server (none for SQLite) and how to read its sizes.
enum Engine {
    Sqlite(tempfile::TempDir),
    Postgres(PgServer),
    Mariadb(MariaDbServer),
}

/// Bytes of the runs table: rows (heap) and indexes.
#[derive(Clone, Copy)]
struct Size {
    table: i64,
    indexes: i64,
}

impl Size {
    fn total(&self) -> i64 {
        self.table + self.indexes
    }
}

impl Engine {
    fn url(&self) -> anyhow::Result<String> {
        Ok(match self {
            Engine::Sqlite(dir) => format!("sqlite://{}", dir.path().join("history.db").display()),
            Engine::Postgres(server) => server.create_database("history")?,
            Engine::Mariadb(server) => server.create_database("history")?,
        })
    }

    /// CPU seconds used so far by the database: the server's processes, or this process
    /// for SQLite (the engine runs inside it).
    fn db_cpu_s(&self) -> f64 {
        match self {
            Engine::Sqlite(_) => process_cpu(std::process::id()).map_or(0.0, |c| c.1),
            Engine::Postgres(_) => cpu_of("postgres"),
            Engine::Mariadb(_) => cpu_of("mariadbd"),
        }
    }

    async fn size(&self, url: &str) -> anyhow::Result<Size> {
        Ok(match self {
            Engine::Sqlite(_) => {
                let pool = sqlx::SqlitePool::connect(url).await?;
                let (table, indexes): (i64, i64) = sqlx::query_as(
                    "SELECT COALESCE(SUM(CASE WHEN name = 'runs' THEN pgsize END), 0), \
                     COALESCE(SUM(CASE WHEN name <> 'runs' THEN pgsize END), 0) FROM dbstat \
                     WHERE name = 'runs' OR name IN \
                     (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs')",
                )
                .fetch_one(&pool)
                .await
                .context("reading SQLite's dbstat")?;
                pool.close().await;
                Size { table, indexes }
            }
            Engine::Postgres(_) => {
                let pool = sqlx::PgPool::connect(url).await?;
                let (table, indexes): (i64, i64) =
                    sqlx::query_as("SELECT pg_table_size('runs'), pg_indexes_size('runs')")
                        .fetch_one(&pool)
                        .await?;
                pool.close().await;
                Size { table, indexes }
            }
            Engine::Mariadb(_) => {
                let pool = sqlx::MySqlPool::connect(url).await?;
                sqlx::query("ANALYZE TABLE runs").execute(&pool).await?;
                let (table, indexes): (u64, u64) = sqlx::query_as(
                    "SELECT data_length, index_length FROM information_schema.tables \
                     WHERE table_schema = DATABASE() AND table_name = 'runs'",
                )
                .fetch_one(&pool)
                .await?;
                pool.close().await;
                Size {
                    table: table as i64,
                    indexes: indexes as i64,
                }
            }
        })
    }

    /// Rewrites the runs table without its dead space (`VACUUM FULL`, `OPTIMIZE TABLE`,
    /// `VACUUM`): the size of the rows alone.
    async fn compact(&self, url: &str) -> anyhow::Result<()> {
        match self {
            Engine::Sqlite(_) => {
                let pool = sqlx::SqlitePool::connect(url).await?;
                sqlx::query("VACUUM").execute(&pool).await?;
                pool.close().await;
            }
            Engine::Postgres(_) => {
                let pool = sqlx::PgPool::connect(url).await?;
                sqlx::query("VACUUM FULL runs").execute(&pool).await?;
                pool.close().await;
            }
            Engine::Mariadb(_) => {
                let pool = sqlx::MySqlPool::connect(url).await?;
                sqlx::query("OPTIMIZE TABLE runs").execute(&pool).await?;
                pool.close().await;
            }
        }
        Ok(())
    }
}

/// Jobs owned by the bench instance, with their epochs.
async fn prepare(store: &Store, jobs: usize) -> anyhow::Result<Vec<(String, i64)>> {
    store.migrate().await?;
    let mut created = 0;
    while created < jobs {
        let chunk = (jobs - created).min(2_000);
        let list = (created..created + chunk)
            .map(|i| NewJob::new(format!("history-{i:06}"), "* * * * * *", "report"))
            .collect();
        store.create_jobs(list).await?;
        created += chunk;
    }
    store.heartbeat(INSTANCE, "10.0.0.7:8080", "bench").await?;
    let mut owned = Vec::new();
    loop {
        let claimed = store.claim_jobs(INSTANCE, 60_000).await?;
        if claimed.is_empty() {
            break;
        }
        owned.extend(claimed.into_iter().map(|j| (j.id, j.epoch)));
    }
    anyhow::ensure!(
        owned.len() == jobs,
        "claimed {} of {jobs} jobs",
        owned.len()
    );
    owned.sort();
    Ok(owned)
}

fn finish() -> FinishRun {
    FinishRun {
        status: RunStatus::Succeeded,
        result: Some(r#"{"ok":true}"#.into()),
        error: None,
        logs: Some("checked 3 endpoints, all healthy (12 ms)\n".into()),
    }
}

/// Records every job's ticks, tick by tick; returns the runs recorded.
async fn fill(store: &Store, jobs: &Arc<Vec<(String, i64)>>, ticks: usize) -> anyhow::Result<u64> {
    let total = (jobs.len() * ticks) as i64;
    let next = Arc::new(AtomicI64::new(0));
    let digest = format!("sha256:{}", "5f3c".repeat(16));
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (store, jobs, next, digest) =
            (store.clone(), jobs.clone(), next.clone(), digest.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            loop {
                let from = next.fetch_add(BATCH as i64, Ordering::Relaxed);
                if from >= total {
                    return anyhow::Ok(done);
                }
                let runs: Vec<NewRun> = (from..(from + BATCH as i64).min(total))
                    .map(|n| {
                        let (job_id, epoch) = &jobs[n as usize % jobs.len()];
                        NewRun {
                            job_id: job_id.clone(),
                            scheduled_at_ms: BASE_MS + (n / jobs.len() as i64) * 1_000,
                            instance_id: INSTANCE.into(),
                            epoch: *epoch,
                            plugin_digest: Some(digest.clone()),
                            attempt: 1,
                            catch_up: false,
                            manual: false,
                        }
                    })
                    .collect();
                let started: Vec<(i64, i64, FinishRun)> = store
                    .begin_runs(&runs)
                    .await?
                    .iter()
                    .zip(&runs)
                    .filter_map(|(answer, run)| match answer {
                        BeginRun::Started(id) => Some((*id, run.epoch, finish())),
                        _ => None,
                    })
                    .collect();
                anyhow::ensure!(started.len() == runs.len(), "a tick was not started");
                store.finish_runs(&started).await?;
                done += started.len() as u64;
            }
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    Ok(done)
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn gib(bytes: f64) -> String {
    format!("{:.1} GiB", bytes / (1024.0 * 1024.0 * 1024.0))
}

async fn bench(name: &str, engine: Engine, s: &Settings) -> anyhow::Result<()> {
    let url = engine.url()?;
    let store = Store::connect(&url).await?;
    let jobs = Arc::new(prepare(&store, s.jobs).await.context("creating the jobs")?);

    let (began, cpu) = (Instant::now(), engine.db_cpu_s());
    let recorded = fill(&store, &jobs, s.ticks).await.context("recording")?;
    let fill_s = began.elapsed().as_secs_f64();
    let record_cpu_us = (engine.db_cpu_s() - cpu) * 1e6 / recorded as f64;
    let written = engine.size(&url).await?;

    // Age-based retention: the older half, as housekeeping deletes it.
    let cutoff = BASE_MS + (s.ticks as i64 / 2) * 1_000;
    let (began, cpu) = (Instant::now(), engine.db_cpu_s());
    let deleted = store
        .delete_runs_before(cutoff)
        .await
        .context("retention")?;
    let delete_s = began.elapsed().as_secs_f64();
    let delete_cpu_us = (engine.db_cpu_s() - cpu) * 1e6 / deleted.max(1) as f64;
    let kept = recorded - deleted;

    // A pass of the per-job limits over the runs left: every run is within the takeover
    // look-back (15 minutes) of its job's newest, so none may go; the pass is the cost, a
    // statement per job reading its newest runs.
    let (began, cpu) = (Instant::now(), engine.db_cpu_s());
    let limited = store.delete_runs_over(&[RunStatus::Succeeded], 5).await?;
    let limits_s = began.elapsed().as_secs_f64();
    let limits_cpu_us = (engine.db_cpu_s() - cpu) * 1e6 / s.jobs as f64;
    anyhow::ensure!(
        limited == 0,
        "the limits deleted {limited} runs inside the look-back"
    );

    store.close().await;
    engine.compact(&url).await?;
    let compacted = engine.size(&url).await?;

    let per = |size: Size, rows: u64| size.total() as f64 / rows as f64;
    let (written_b, compact_b) = (per(written, recorded), per(compacted, kept));
    println!(
        "| {name} | {recorded} in {fill_s:.1} s ({:.0}/s), {record_cpu_us:.0} µs DB CPU a run \
         | {} ({} rows + {} indexes): {written_b:.0} B | {compact_b:.0} B \
         | {deleted} in {delete_s:.1} s ({:.0}/s), {delete_cpu_us:.0} µs DB CPU a run \
         | {:.2} s over {} jobs and {kept} runs, {limits_cpu_us:.0} µs DB CPU a job \
         | {} – {} |",
        recorded as f64 / fill_s,
        mib(written.total()),
        mib(written.table),
        mib(written.indexes),
        deleted as f64 / delete_s,
        limits_s,
        s.jobs,
        gib(STEADY_RUNS * compact_b),
        gib(STEADY_RUNS * written_b),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s = settings()?;
    let wants = |engine: &str| s.only.as_deref().is_none_or(|only| only == engine);
    println!(
        "history-bench: {} jobs × {} one-second ticks = {} runs per engine; retention deletes \
         the older half; the steady size is {STEADY_RUNS} runs (10,000 one-second jobs, \
         1 hour kept + 1 minute) × bytes per run, compacted – as written",
        s.jobs,
        s.ticks,
        s.jobs * s.ticks
    );
    println!(
        "\n| engine | recorded | as written: size, bytes a run | compacted: bytes a run \
         | retention: deleted | a pass of the per-job limits | steady size |"
    );
    println!("|---|---|---|---|---|---|---|");
    if wants("sqlite") {
        bench("SQLite", Engine::Sqlite(tempfile::tempdir()?), &s).await?;
    }
    if wants("postgres") {
        let server = PgServer::start_with(PgOptions {
            fsync: true,
            listen: Listen::Tcp,
            ..PgOptions::default()
        })?;
        bench("PostgreSQL 15", Engine::Postgres(server), &s).await?;
    }
    if wants("mariadb") {
        let server = MariaDbServer::start_with_options(MariaDbOptions {
            listen: Listen::Tcp,
            durable: true,
            ..MariaDbOptions::default()
        })?;
        bench("MariaDB 10.11", Engine::Mariadb(server), &s).await?;
    }
    Ok(())
}
