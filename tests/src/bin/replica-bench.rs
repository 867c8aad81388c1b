//! One replica's lateness curve: N one-second jobs (`* * * * * *`, the `misbehave` test
//! plugin's no-op action) on one replica, every run durably recorded (its row written before
//! the plugin is called, finished after), on SQLite, PostgreSQL and MariaDB.
//!
//! For each engine and each N of `--jobs` (default 500,1000,2000,5000,10000), two shapes:
//! - **at once**: every job due at the same instant each second;
//! - **spread**: the same jobs with `jitter: 1s`, each firing at its own fixed offset in the
//!   second (lateness counted from that offset).
//!
//! Beside each burst, its **floor**, measured in the same run on the same server: the time
//! the store takes to record N runs through the path the replica uses (begins in batches of
//! 512, finishes alongside), no scheduler and no plugin. The last run of a burst of N cannot
//! be recorded sooner, so lateness is judged against it.
//!
//! Reported per shape: runs due and recorded in the measured seconds, lateness p50 / p99 / max
//! (scheduled instant, plus the jitter offset when spread → run row's start), and CPU time per
//! run of the replica process and of the database server's processes (read from `/proc` over
//! the measured window; SQLite runs inside the replica).
//!
//! Run through `scripts/bench.sh` (it builds the release binary and sets `WASMCRON_BIN`), or
//! `WASMCRON_BIN=target/release/wasmcron cargo run --release -p wasmcron-e2e --bin replica-bench
//! -- [--jobs 500,1000] [--seconds S] [--concurrency C] [--only sqlite|postgres|mariadb]`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use sqlx::Row;
use wasmcron::schedule::{JobTiming, Schedule};
use wasmcron::store::{BeginRun, FinishRun, NewJob, NewRun, RunStatus, Store};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::cpu::{cpu_of, process_cpu};
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::mariadb::{MariaDbOptions, MariaDbServer};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

/// The ledger's batch (`scheduler/ledger.rs`).
const BATCH: usize = 512;

struct Settings {
    jobs: Vec<usize>,
    seconds: i64,
    concurrency: usize,
    only: Option<String>,
}

fn settings() -> anyhow::Result<Settings> {
    let mut s = Settings {
        jobs: vec![500, 1000, 2000, 5000, 10000],
        seconds: 10,
        concurrency: 512,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--jobs" => {
                s.jobs = value()?
                    .split(',')
                    .map(|n| n.trim().parse())
                    .collect::<Result<_, _>>()?
            }
            "--seconds" => s.seconds = value()?.parse()?,
            "--concurrency" => s.concurrency = value()?.parse()?,
            "--only" => s.only = Some(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(s)
}

/// A database engine under test: how to get a fresh database, and which processes are it.
enum Engine {
    Sqlite(tempfile::TempDir),
    Postgres(PgServer),
    Mariadb(MariaDbServer),
}

impl Engine {
    fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite(_) => "SQLite (WAL, synchronous=NORMAL)",
            Engine::Postgres(_) => "PostgreSQL 15 (fsync on)",
            Engine::Mariadb(_) => "MariaDB 10.11 (log flushed at commit)",
        }
    }

    fn fresh(&self) -> anyhow::Result<String> {
        Ok(match self {
            Engine::Sqlite(dir) => {
                let file = dir.path().join(format!("{}.db", unique_name()));
                format!("sqlite://{}", file.display())
            }
            Engine::Postgres(server) => server.fresh_database()?,
            Engine::Mariadb(server) => server.fresh_database()?,
        })
    }

    /// CPU seconds used so far by the server's processes (none for SQLite: in the replica).
    fn server_cpu_s(&self) -> f64 {
        let comm = match self {
            Engine::Sqlite(_) => return 0.0,
            Engine::Postgres(_) => "postgres",
            Engine::Mariadb(_) => "mariadbd",
        };
        cpu_of(comm)
    }

    /// The first attempts of the ticks in a window, in the engine's placeholders.
    fn window_sql(&self) -> &'static str {
        match self {
            Engine::Mariadb(_) => {
                "SELECT job_id, scheduled_at_ms, started_at_ms, status FROM runs \
                 WHERE scheduled_at_ms >= ? AND scheduled_at_ms < ? AND attempt = 1"
            }
            _ => {
                "SELECT job_id, scheduled_at_ms, started_at_ms, status FROM runs \
                 WHERE scheduled_at_ms >= $1 AND scheduled_at_ms < $2 AND attempt = 1"
            }
        }
    }
}

fn unique_name() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    AtOnce,
    Spread,
}

struct Figures {
    due: i64,
    recorded: i64,
    succeeded: i64,
    p50_ms: i64,
    p99_ms: i64,
    max_ms: i64,
    host_us_per_run: f64,
    db_us_per_run: f64,
}

/// Starts a replica on a fresh database with `jobs` one-second jobs of `shape` and measures
/// `seconds` whole seconds of scheduled time after a warm-up.
async fn measure(
    engine: &Engine,
    jobs: usize,
    shape: Shape,
    s: &Settings,
) -> anyhow::Result<Figures> {
    let db = engine.fresh()?;
    let host = Host::start(HostOptions::new(&db, "bench", &plugins_dir())).await;
    host.wait_for("ready", Duration::from_secs(30), || async {
        host.status_of("/readyz").await == Some(200)
    })
    .await;
    let (status, body) = host
        .send(
            "PUT",
            "/api/v1/settings/scheduler.max_concurrent_runs",
            json!({"value": s.concurrency}),
        )
        .await;
    anyhow::ensure!(status == 200, "setting refused: {body}");
    let list: Vec<_> = (0..jobs)
        .map(|i| {
            let mut job = json!({"name": format!("j{i:05}"), "schedule": "* * * * * *",
                "plugin": "misbehave", "input": {"do": "ok"}, "overlap": "allow",
                "misfire": "skip"});
            if shape == Shape::Spread {
                job["jitter"] = json!("1s");
            }
            job
        })
        .collect();
    let (status, body) = host
        .send(
            "POST",
            "/api/v1/specs/apply",
            json!({"source": "replica-bench", "jobs": list}),
        )
        .await;
    anyhow::ensure!(status == 200, "apply refused: {status} {body}");
    // Warm up (claims, plugin instances), then measure whole seconds of scheduled time.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let from = (now_ms() / 1000 + 1) * 1000;
    let to = from + s.seconds * 1000;
    tokio::time::sleep(Duration::from_millis((from - now_ms()).max(0) as u64)).await;
    let (host0, db0) = (
        process_cpu(host.pid()).map_or(0.0, |c| c.1),
        engine.server_cpu_s(),
    );
    tokio::time::sleep(Duration::from_millis((to - now_ms()).max(0) as u64)).await;
    let (host1, db1) = (
        process_cpu(host.pid()).map_or(0.0, |c| c.1),
        engine.server_cpu_s(),
    );
    // The last ticks' runs finish, then the records are read.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(host);
    let rows = window(engine, &db, from, to).await?;
    let timing = JobTiming::new(
        Schedule::parse("* * * * * *")?,
        chrono_tz::UTC,
        Duration::from_secs(1),
    );
    let mut late: Vec<i64> = rows
        .iter()
        .filter_map(|(job, tick, started, _)| match shape {
            Shape::AtOnce => Some((*started)? - tick),
            Shape::Spread => Some((*started)? - timing.fire_at_ms(*tick, job)),
        })
        .collect();
    late.sort_unstable();
    let pick = |p: f64| {
        late.get(((late.len() as f64 * p) as usize).min(late.len().saturating_sub(1)))
            .copied()
            .unwrap_or(-1)
    };
    let recorded = rows.len() as i64;
    let per_run = |cpu: f64| cpu * 1e6 / recorded.max(1) as f64;
    Ok(Figures {
        due: jobs as i64 * s.seconds,
        recorded,
        succeeded: rows.iter().filter(|r| r.3 == "succeeded").count() as i64,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: late.last().copied().unwrap_or(-1),
        host_us_per_run: per_run(host1 - host0),
        db_us_per_run: per_run(db1 - db0),
    })
}

/// `(job, tick, started, status)` of the first attempts of the ticks in `[from, to)`.
async fn window(
    engine: &Engine,
    db: &str,
    from: i64,
    to: i64,
) -> anyhow::Result<Vec<(String, i64, Option<i64>, String)>> {
    let sql = engine.window_sql();
    macro_rules! read {
        ($pool:ty) => {{
            let pool = <$pool>::connect(db).await?;
            let rows = sqlx::query(sql)
                .bind(from)
                .bind(to)
                .fetch_all(&pool)
                .await?;
            let rows = rows
                .iter()
                .map(|r| {
                    (
                        r.get::<String, _>(0),
                        r.get::<i64, _>(1),
                        r.get::<Option<i64>, _>(2),
                        r.get::<String, _>(3),
                    )
                })
                .collect();
            pool.close().await;
            rows
        }};
    }
    Ok(match engine {
        Engine::Sqlite(_) => read!(sqlx::SqlitePool),
        Engine::Postgres(_) => read!(sqlx::PgPool),
        Engine::Mariadb(_) => read!(sqlx::MySqlPool),
    })
}

/// The floor of a burst of `jobs`: the median time, over three bursts, the store takes to
/// record that many runs as the replica does (begins in batches of [`BATCH`], one after the
/// other; each batch finished alongside).
async fn floor_ms(engine: &Engine, jobs: usize) -> anyhow::Result<f64> {
    let store = Store::connect(&engine.fresh()?).await?;
    store.migrate().await?;
    let list = (0..jobs)
        .map(|i| NewJob::new(format!("floor-{i:05}"), "* * * * * *", "bench"))
        .collect();
    store.create_jobs(list).await?;
    store.heartbeat("floor", "127.0.0.1:0", "bench").await?;
    let owned = store.claim_jobs("floor", 60_000).await?;
    anyhow::ensure!(owned.len() == jobs, "claimed {} of {jobs}", owned.len());
    let mut times = Vec::new();
    for burst in 1..=3_i64 {
        let runs: Vec<NewRun> = owned
            .iter()
            .map(|job| NewRun {
                job_id: job.id.clone(),
                scheduled_at_ms: burst * 1000,
                instance_id: "floor".into(),
                epoch: job.epoch,
                plugin_digest: Some("sha256:bench".into()),
                attempt: 1,
                catch_up: false,
                manual: false,
            })
            .collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<(i64, i64)>>();
        let finisher = {
            let store = store.clone();
            tokio::spawn(async move {
                while let Some(started) = rx.recv().await {
                    let items: Vec<(i64, i64, FinishRun)> = started
                        .into_iter()
                        .map(|(id, epoch)| {
                            let finish = FinishRun {
                                status: RunStatus::Succeeded,
                                result: Some("ok".into()),
                                error: None,
                                logs: None,
                            };
                            (id, epoch, finish)
                        })
                        .collect();
                    store.finish_runs(&items).await?;
                }
                anyhow::Ok(())
            })
        };
        let started = Instant::now();
        for (chunk, jobs) in runs.chunks(BATCH).zip(owned.chunks(BATCH)) {
            let answers = store.begin_runs(chunk).await?;
            let ids = answers
                .iter()
                .zip(jobs)
                .filter_map(|(answer, job)| match answer {
                    BeginRun::Started(id) => Some((*id, job.epoch)),
                    _ => None,
                })
                .collect::<Vec<_>>();
            anyhow::ensure!(ids.len() == chunk.len(), "a floor run was not recorded");
            tx.send(ids)?;
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(tx);
        finisher.await??;
    }
    store.close().await;
    times.sort_by(f64::total_cmp);
    Ok(times[1])
}

async fn bench_engine(engine: &Engine, s: &Settings) -> anyhow::Result<()> {
    println!();
    println!("### {}", engine.name());
    println!(
        "| jobs | shape | due | recorded | succeeded | floor ms | lateness p50 ms | p99 ms | max ms | p99 / floor | host CPU µs/run | database CPU µs/run |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &jobs in &s.jobs {
        let floor = floor_ms(engine, jobs).await?;
        for shape in [Shape::AtOnce, Shape::Spread] {
            let f = measure(engine, jobs, shape, s).await?;
            let (name, floor_cell, ratio) = match shape {
                Shape::AtOnce => (
                    "at once",
                    format!("{floor:.0}"),
                    format!("{:.2}", f.p99_ms as f64 / floor.max(1.0)),
                ),
                Shape::Spread => ("spread (jitter 1s)", "—".into(), "—".into()),
            };
            println!(
                "| {jobs} | {name} | {} | {} | {} | {floor_cell} | {} | {} | {} | {ratio} | {:.0} | {:.0} |",
                f.due,
                f.recorded,
                f.succeeded,
                f.p50_ms,
                f.p99_ms,
                f.max_ms,
                f.host_us_per_run,
                f.db_us_per_run
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("WASMCRON_BIN").is_none() {
        bail!(
            "set WASMCRON_BIN to a release build (scripts/bench.sh does): a debug build measures nothing useful"
        );
    }
    let s = settings()?;
    println!(
        "## one replica: lateness of one-second jobs (no-op plugin), {} s measured per row, scheduler.max_concurrent_runs {}",
        s.seconds, s.concurrency
    );
    let wants = |engine: &str| s.only.as_deref().is_none_or(|only| only == engine);
    if wants("sqlite") {
        bench_engine(&Engine::Sqlite(tempfile::tempdir()?), &s).await?;
    }
    if wants("postgres") {
        let server = PgServer::start_with(PgOptions {
            fsync: true,
            listen: Listen::Tcp,
            ..PgOptions::default()
        })?;
        bench_engine(&Engine::Postgres(server), &s).await?;
    }
    if wants("mariadb") {
        let server = MariaDbServer::start_with_options(MariaDbOptions {
            listen: Listen::Tcp,
            durable: true,
            ..MariaDbOptions::default()
        })?;
        bench_engine(&Engine::Mariadb(server), &s).await?;
    }
    Ok(())
}
