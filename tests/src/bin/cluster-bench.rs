//! A cluster of 3 replicas (the release binary, default settings) on one PostgreSQL with
//! 100,000 jobs on minute schedules spread over the minute by jitter (`* * * * *`, `jitter:
//! 60s`, the `misbehave` test plugin's no-op action), seeded before any replica starts:
//! - how long after the replicas start every job is claimed, and balanced within ±1 job;
//! - one whole minute of ticks: due, recorded, fire lateness (each job's jittered instant →
//!   its run row), and each replica's resident memory;
//! - `POST /api/v1/jobs` one at a time on one replica with 100,000 jobs present that are not
//!   due (what a create costs beside them, against the store creating the job alone), and on
//!   a replica of the cluster while the 100,000 run;
//! - a kill -9 of one replica: how long until its jobs are owned by the survivors, and whether
//!   each of its jobs ran its next tick (the first due after the kill) on a survivor, how late,
//!   and the survivors' memory after taking them.
//!
//! Run through `scripts/bench.sh`, or `WASMCRON_BIN=target/release/wasmcron cargo run --release
//! -p wasmcron-e2e --bin cluster-bench -- [--jobs N] [--creates N] [--idle-only] [--logs DIR]`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::json;
use wasmcron::schedule::{JobTiming, Schedule};
use wasmcron::store::{NewJob, Store};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::cpu::{cpu_of, process_cpu};
use wasmcron_e2e::host::{Host, HostOptions, rss_kib};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

const REPLICAS: [&str; 3] = ["a", "b", "c"];

struct Settings {
    jobs: usize,
    creates: usize,
    /// Measure the creates beside idle jobs only (e.g. to compare builds).
    idle_only: bool,
    /// Copy each replica's log into this directory at the end.
    logs: Option<std::path::PathBuf>,
}

fn settings() -> anyhow::Result<Settings> {
    let mut s = Settings {
        jobs: 100_000,
        creates: 200,
        idle_only: false,
        logs: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--jobs" => s.jobs = value()?.parse()?,
            "--creates" => s.creates = value()?.parse()?,
            "--logs" => s.logs = Some(value()?.into()),
            "--idle-only" => s.idle_only = true,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(s)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn sleep_until_ms(at: i64) {
    tokio::time::sleep(Duration::from_millis((at - now_ms()).max(0) as u64)).await;
}

fn timing() -> JobTiming {
    JobTiming::new(
        Schedule::parse("* * * * *").expect("schedule"),
        chrono_tz::UTC,
        Duration::from_secs(60),
    )
}

/// `p50 / p99 / max` of `values`, sorted in place.
fn spread(values: &mut [f64], unit: &str) -> String {
    if values.is_empty() {
        return "—".into();
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!(
        "{:.0} / {:.0} / {:.0} {unit}",
        at(0.5),
        at(0.99),
        values[values.len() - 1]
    )
}

/// How many jobs each replica owns (`""`: none).
async fn owners(pool: &sqlx::PgPool) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows: Vec<(Option<String>, i64)> =
        sqlx::query_as("SELECT owner, COUNT(*) FROM jobs GROUP BY owner")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(o, n)| (o.unwrap_or_default(), n))
        .collect())
}

/// `(job, tick, started, instance, catch_up)` of the first attempts of ticks in `[from, to)`.
type Run = (String, i64, Option<i64>, Option<String>, bool);

async fn runs(pool: &sqlx::PgPool, from: i64, to: i64) -> anyhow::Result<Vec<Run>> {
    Ok(sqlx::query_as(
        "SELECT job_id, scheduled_at_ms, started_at_ms, instance_id, catch_up FROM runs \
         WHERE scheduled_at_ms >= $1 AND scheduled_at_ms < $2 AND attempt = 1",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

fn rss_cell(hosts: &[Host]) -> String {
    hosts
        .iter()
        .filter(|h| h.is_running())
        .map(|h| {
            format!(
                "{} {} MiB",
                h.options.instance_id,
                rss_kib(h.pid()).unwrap_or(0) / 1024
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates `n` jobs on `schedule` (jitter 60 s, the no-op action) through the store, 2,000 a
/// transaction.
async fn seed(store: &Store, n: usize, schedule: &str) -> anyhow::Result<()> {
    for chunk in (0..n).collect::<Vec<_>>().chunks(2_000) {
        let list = chunk
            .iter()
            .map(|i| {
                let mut job = NewJob::new(format!("job-{i:06}"), schedule, "misbehave");
                job.input = json!({"do": "ok"});
                job.jitter_ms = 60_000;
                job
            })
            .collect();
        store.create_jobs(list).await?;
    }
    Ok(())
}

/// `POST /api/v1/jobs` `n` times, one at a time, on `host`: each answer's time in ms.
async fn creates(host: &Host, n: usize, prefix: &str) -> anyhow::Result<Vec<f64>> {
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let body = json!({"name": format!("{prefix}-{i:04}"), "schedule": "0 0 1 1 *",
            "plugin": "misbehave", "input": {"do": "ok"}});
        let sent = Instant::now();
        let r = client
            .post(format!("{}/api/v1/jobs", host.base))
            .json(&body)
            .send()
            .await?;
        times.push(sent.elapsed().as_secs_f64() * 1e3);
        ensure!(r.status().as_u16() == 201, "create refused: {}", r.status());
    }
    Ok(times)
}

/// `GET path(i)` for i in `0..n`, one at a time, on `host`: each answer's time in ms.
async fn gets(host: &Host, n: usize, path: impl Fn(usize) -> String) -> anyhow::Result<Vec<f64>> {
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let sent = Instant::now();
        let r = client
            .get(format!("{}{}", host.base, path(i)))
            .send()
            .await?;
        let status = r.status().as_u16();
        r.bytes().await?;
        times.push(sent.elapsed().as_secs_f64() * 1e3);
        ensure!(status == 200, "{} answered {status}", path(i));
    }
    Ok(times)
}

/// `wasmcron_reconciles_total` of `host` as `(all, written)` (zeros where the build has none).
async fn reconciles(host: &Host) -> (u64, u64) {
    let (_, text) = host
        .request(None, "GET", "/metrics", serde_json::Value::Null)
        .await;
    let count = |scope: &str| {
        let prefix = format!("wasmcron_reconciles_total{{scope=\"{scope}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as u64
    };
    (count("all"), count("written"))
}

/// One replica with `n` jobs that are not due (yearly): creates one at a time through the API
/// against the store creating the same jobs alone (the floor), and what the replica
/// reconciled meanwhile.
async fn idle_creates(server: &PgServer, n: usize, count: usize) -> anyhow::Result<()> {
    let db = server.fresh_database()?;
    let store = Store::connect(&db).await?;
    store.migrate().await?;
    seed(&store, n, "0 0 1 1 *").await?;
    let mut floor = Vec::with_capacity(count);
    for i in 0..count {
        let started = Instant::now();
        store
            .create_job(NewJob::new(
                format!("floor-{i:04}"),
                "0 0 1 1 *",
                "misbehave",
            ))
            .await?;
        floor.push(started.elapsed().as_secs_f64() * 1e3);
    }
    store.close().await;
    let mut options = HostOptions::new(&db, "solo", &plugins_dir());
    options.env.push(("WASMCRON_LOG".into(), "info".into()));
    let host = Host::start(options).await;
    let pool = sqlx::PgPool::connect(&db).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while owners(&pool).await?.contains_key("") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = reconciles(&host).await;
    let cpu = (
        process_cpu(host.pid()).map_or(0.0, |c| c.1),
        cpu_of("postgres"),
    );
    let mut times = creates(&host, count, "idle").await?;
    // What the creates set off in the background ends within a heartbeat.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu = (
        process_cpu(host.pid()).map_or(0.0, |c| c.1) - cpu.0,
        cpu_of("postgres") - cpu.1,
    );
    let after = reconciles(&host).await;
    println!(
        "- one replica, {n} jobs not due: `POST /api/v1/jobs` {count} times one at a time: p50 / p99 / max {} (the store alone: {}); CPU per create, until 2 s after the last: replica {:.1} ms, PostgreSQL {:.1} ms; the replica reconciled every job {} times and the jobs written {} times meanwhile",
        spread(&mut times, "ms"),
        spread(&mut floor, "ms"),
        cpu.0 * 1e3 / count as f64,
        cpu.1 * 1e3 / count as f64,
        after.0 - before.0,
        after.1 - before.1
    );
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
    let server = PgServer::start_with(PgOptions {
        fsync: true,
        listen: Listen::Tcp,
        ..PgOptions::default()
    })?;
    let db = server.fresh_database()?;
    let store = Store::connect(&db).await?;
    store.migrate().await?;
    let started = Instant::now();
    seed(&store, s.jobs, "* * * * *").await?;
    store.close().await;
    let seeded = started.elapsed().as_secs_f64();
    let pool = sqlx::PgPool::connect(&db).await?;

    println!(
        "## {} jobs (`* * * * *`, jitter 60s, no-op plugin) on 3 replicas, one PostgreSQL 15 (fsync on), default settings",
        s.jobs
    );
    println!();
    idle_creates(&server, s.jobs, s.creates).await?;
    if s.idle_only {
        return Ok(());
    }
    println!("- seeded through the store before any replica started: {seeded:.1} s");

    // Start the three together; claims begin as each one registers.
    let start = Instant::now();
    let plugins = plugins_dir();
    let options = |id: &str| {
        let mut o = HostOptions::new(&db, id, &plugins);
        o.env.push(("WASMCRON_LOG".into(), "info".into()));
        o
    };
    let (a, b, c) = tokio::join!(
        Host::start(options(REPLICAS[0])),
        Host::start(options(REPLICAS[1])),
        Host::start(options(REPLICAS[2]))
    );
    let mut hosts = vec![a, b, c];
    let (mut claimed_s, mut balanced_s) = (None, None);
    while balanced_s.is_none() && start.elapsed() < Duration::from_secs(180) {
        let counts = owners(&pool).await?;
        let live: Vec<i64> = REPLICAS
            .iter()
            .map(|r| counts.get(*r).copied().unwrap_or(0))
            .collect();
        let unowned = counts.get("").copied().unwrap_or(0);
        if unowned == 0 && claimed_s.is_none() {
            claimed_s = Some(start.elapsed().as_secs_f64());
        }
        let (min, max) = (live.iter().min().unwrap(), live.iter().max().unwrap());
        if unowned == 0 && max - min <= 1 {
            balanced_s = Some(start.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let show = |v: Option<f64>| v.map_or("not within 180 s".to_string(), |v| format!("{v:.1} s"));
    println!(
        "- every job claimed: {} after the replicas were started; balanced within ±1 job: {} ({:?})",
        show(claimed_s),
        show(balanced_s),
        owners(&pool).await?
    );

    // One whole minute of ticks, after a minute of warm-up.
    let minute = (now_ms() / 60_000 + 2) * 60_000;
    let cpu_now = || {
        let replicas: Vec<f64> = hosts
            .iter()
            .map(|h| process_cpu(h.pid()).map_or(0.0, |c| c.1))
            .collect();
        (replicas, cpu_of("postgres"))
    };
    sleep_until_ms(minute).await;
    let cpu_before = cpu_now();
    sleep_until_ms(minute + 60_000).await;
    let cpu_after = cpu_now();
    sleep_until_ms(minute + 60_000 + 5_000).await;
    let window = runs(&pool, minute, minute + 60_000).await?;
    let t = timing();
    let mut late: Vec<f64> = window
        .iter()
        .filter_map(|(job, tick, started, _, _)| {
            Some((started.as_ref()? - t.fire_at_ms(*tick, job)) as f64)
        })
        .collect();
    println!(
        "- one minute of ticks: {} due, {} recorded; lateness p50 / p99 / max {}",
        s.jobs,
        window.len(),
        spread(&mut late, "ms")
    );
    println!("- resident memory: {}", rss_cell(&hosts));
    let share = |seconds: f64| format!("{:.0} %", seconds * 100.0 / 60.0);
    println!(
        "- CPU over that minute, in % of one core (the machine has {}): replicas {}, PostgreSQL {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        REPLICAS
            .iter()
            .zip(cpu_before.0.iter().zip(&cpu_after.0))
            .map(|(name, (a, b))| format!("{name} {}", share(b - a)))
            .collect::<Vec<_>>()
            .join(", "),
        share(cpu_after.1 - cpu_before.1)
    );

    // Single creates on a running replica with the jobs present and running, beside two
    // baselines on the same replica: an answer without the database, and one job read.
    let mut probes = gets(&hosts[0], s.creates, |_| "/healthz".into()).await?;
    let mut reads = gets(&hosts[0], s.creates, |i| {
        format!("/api/v1/jobs/job-{:06}", i * 397 % s.jobs)
    })
    .await?;
    let mut times = creates(&hosts[0], s.creates, "extra").await?;
    println!(
        "- `POST /api/v1/jobs`, {} one at a time on replica a while the jobs run: p50 / p99 / max {}; baselines on the same replica, as many one at a time: `GET /healthz` (no database) {}, `GET /api/v1/jobs/{{name}}` (reads only) {}",
        s.creates,
        spread(&mut times, "ms"),
        spread(&mut probes, "ms"),
        spread(&mut reads, "ms")
    );

    // Kill one replica; its jobs go to the survivors.
    let before: Vec<(String, Option<String>)> = sqlx::query_as("SELECT id, owner FROM jobs")
        .fetch_all(&pool)
        .await?;
    let dead: HashSet<String> = before
        .into_iter()
        .filter(|(_, o)| o.as_deref() == Some(REPLICAS[2]))
        .map(|(id, _)| id)
        .collect();
    let killed = now_ms();
    hosts[2].kill9();
    let mut moved_s = None;
    while moved_s.is_none() && now_ms() - killed < 120_000 {
        let counts = owners(&pool).await?;
        if !counts.contains_key(REPLICAS[2]) && !counts.contains_key("") {
            moved_s = Some((now_ms() - killed) as f64 / 1e3);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Each dead job's next tick: the first whose jittered instant is after the kill.
    let mut next: HashMap<String, i64> = HashMap::new();
    for id in &dead {
        let mut tick = t.next_tick_ms(killed - 60_000).expect("a next tick");
        while t.fire_at_ms(tick, id) <= killed {
            tick = t.next_tick_ms(tick).expect("a next tick");
        }
        next.insert(id.clone(), tick);
    }
    let last_due = next
        .iter()
        .map(|(id, tick)| t.fire_at_ms(*tick, id))
        .max()
        .unwrap_or(killed);
    sleep_until_ms(last_due + 15_000).await;
    let after = runs(&pool, killed - 60_000, last_due + 60_000).await?;
    let by_tick: HashMap<(&str, i64), &Run> =
        after.iter().map(|r| ((r.0.as_str(), r.1), r)).collect();
    let (mut ran, mut catch_up, mut elsewhere) = (0, 0, 0);
    let mut late: Vec<f64> = Vec::new();
    for (id, tick) in &next {
        if let Some((_, _, Some(started), instance, caught)) = by_tick.get(&(id.as_str(), *tick)) {
            ran += 1;
            catch_up += usize::from(*caught);
            elsewhere += usize::from(instance.as_deref() != Some(REPLICAS[2]));
            late.push((started - t.fire_at_ms(*tick, id)) as f64);
        }
    }
    println!(
        "- kill -9 of replica c ({} jobs): owned by the survivors after {}; next tick run for {} of them ({} on a survivor, {} as catch-up), lateness p50 / p99 / max {}",
        dead.len(),
        show(moved_s),
        ran,
        elsewhere,
        catch_up,
        spread(&mut late, "ms")
    );
    println!("- resident memory after the takeover: {}", rss_cell(&hosts));
    if let Some(dir) = &s.logs {
        std::fs::create_dir_all(dir)?;
        for host in &hosts {
            let to = dir.join(format!("{}.log", host.options.instance_id));
            std::fs::copy(host.log_path(), &to)?;
        }
    }
    Ok(())
}
