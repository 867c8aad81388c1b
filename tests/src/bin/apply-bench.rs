//! How long applying a list of jobs takes (a jobs file, `wasmcron job apply`), on SQLite,
//! PostgreSQL and MariaDB: the plan and application of N new jobs (created together, a
//! transaction per 2,000), the same list again (nothing to change), every job changed, and
//! every job pruned; against the baseline of the same run, jobs created one at a time as
//! `POST /jobs` creates them. With the N jobs present: one more job created at a time, and a
//! page of the job list read unfiltered (the baseline) and filtered by plugin (1 job in
//! 10,000) and by pause (1 in 1,000), as the API and the dashboard read it.
//!
//! `cargo run --release -p wasmcron-e2e --bin apply-bench -- [--jobs N] [--baseline N]
//! [--only sqlite|postgres|mariadb]`

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use wasmcron::events::Publisher;
use wasmcron::jobs::{ChangeSignal, Foreign, JobFields, Jobs, check_entries};
use wasmcron::store::{Actor, JobFilter, JobPage, NewJob, Store};
use wasmcron_e2e::mariadb::{MariaDbOptions, MariaDbServer};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

const SOURCE: &str = "/etc/wasmcron/jobs/jobs.yaml";

struct Settings {
    jobs: usize,
    baseline: usize,
    only: Option<String>,
}

fn settings() -> anyhow::Result<Settings> {
    let mut s = Settings {
        jobs: 10_000,
        baseline: 2_000,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--jobs" => s.jobs = value()?.parse()?,
            "--baseline" => s.baseline = value()?.parse()?,
            "--only" => s.only = Some(value()?),
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(s)
}

/// `n` jobs as a file lists them; `timeout` sets every job's timeout. One job in 10,000 runs
/// plugin `uptime` (the others `hello`), one in 1,000 is paused.
fn list(n: usize, timeout: &str) -> anyhow::Result<Vec<NewJob>> {
    let fields: Vec<JobFields> = (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "name": format!("job-{i:06}"),
                "schedule": format!("{} * * * *", i % 60),
                "plugin": if i % 10_000 == 5_000 { "uptime" } else { "hello" },
                "input": {"n": i},
                "timeout": timeout,
                "paused": i % 1_000 == 500,
            }))
        })
        .collect::<Result<_, _>>()?;
    Ok(check_entries(&fields)?)
}

fn rate(n: usize, secs: f64) -> String {
    format!("{secs:.2} s ({:.0} jobs/s)", n as f64 / secs)
}

/// Times taken, as `p50 / p99 ms`.
fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    format!("{:.2} / {:.2} ms", at(0.5), at(0.99))
}

/// Reads the first page of the job list (100 jobs) matching `filter`, `READS` times; the
/// read times, and how many jobs the page held.
async fn read_pages(store: &Store, filter: &JobFilter) -> anyhow::Result<(Vec<Duration>, usize)> {
    const READS: usize = 200;
    let mut times = Vec::with_capacity(READS);
    let mut found = 0;
    for _ in 0..READS {
        let start = Instant::now();
        found = store.list_jobs(filter, &JobPage::default()).await?.len();
        times.push(start.elapsed());
    }
    Ok((times, found))
}

async fn bench(engine: &str, url: &str, s: &Settings) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let (events, _writer) = Publisher::new(store.clone());
    let jobs = Jobs::new(store.clone(), "bench", ChangeSignal::default(), events);

    // The baseline's jobs have names of their own: the list leaves them alone.
    let baseline: Vec<JobFields> = (0..s.baseline)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "name": format!("baseline-{i:06}"),
                "schedule": format!("{} * * * *", i % 60),
                "plugin": "hello",
                "input": {"n": i},
                "timeout": "30s",
            }))
        })
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    for fields in &baseline {
        jobs.create(fields, &Actor::Bootstrap).await?;
    }
    let one_by_one = start.elapsed().as_secs_f64();

    let desired = list(s.jobs, "30s")?;
    let start = Instant::now();
    let plan = jobs
        .plan(SOURCE, desired, true, Foreign::Refuse)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let planned = start.elapsed().as_secs_f64();
    ensure!(plan.counts().0 == s.jobs, "plan {:?}", plan.counts());
    jobs.apply(&plan, &Actor::JobsFile).await?;
    let created = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let again = jobs
        .plan(SOURCE, list(s.jobs, "30s")?, true, Foreign::Refuse)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(again.counts() == (0, 0, 0), "{:?}", again.counts());
    let unchanged = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let edit = jobs
        .plan(SOURCE, list(s.jobs, "45s")?, true, Foreign::Refuse)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(edit.counts() == (0, s.jobs, 0), "{:?}", edit.counts());
    jobs.apply(&edit, &Actor::JobsFile).await?;
    let updated = start.elapsed().as_secs_f64();

    // With the N jobs present: creates one at a time, and reads of the job list.
    let extra: Vec<JobFields> = (0..200)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "name": format!("extra-{i:06}"), "schedule": "* * * * *", "plugin": "hello",
            }))
        })
        .collect::<Result<_, _>>()?;
    let mut creates = Vec::with_capacity(extra.len());
    for fields in &extra {
        let start = Instant::now();
        jobs.create(fields, &Actor::Bootstrap).await?;
        creates.push(start.elapsed());
    }
    let mut lists = Vec::new();
    for (what, filter) in [
        ("unfiltered (the baseline)", JobFilter::default()),
        (
            "plugin = uptime",
            JobFilter {
                plugin: Some("uptime".into()),
                ..JobFilter::default()
            },
        ),
        (
            "paused",
            JobFilter {
                paused: Some(true),
                ..JobFilter::default()
            },
        ),
    ] {
        let (times, found) = read_pages(&store, &filter).await?;
        lists.push(format!(
            "{what}, {found} on the page: {}",
            percentiles(times)
        ));
    }

    let start = Instant::now();
    let prune = jobs
        .plan(SOURCE, Vec::new(), true, Foreign::Refuse)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(prune.counts() == (0, 0, s.jobs), "{:?}", prune.counts());
    jobs.apply(&prune, &Actor::JobsFile).await?;
    let pruned = start.elapsed().as_secs_f64();

    println!("{engine}:");
    println!(
        "  baseline, {} jobs created one at a time (POST /jobs): {}",
        s.baseline,
        rate(s.baseline, one_by_one)
    );
    println!(
        "  {} new jobs planned and applied: {} (the plan: {planned:.2} s)",
        s.jobs,
        rate(s.jobs, created)
    );
    println!("  the same list again, nothing to change: {unchanged:.2} s");
    println!("  every job's timeout changed: {}", rate(s.jobs, updated));
    println!(
        "  with them present, one job created at a time: {}",
        percentiles(creates)
    );
    for line in lists {
        println!("  a page of the job list, {line}");
    }
    println!("  every job pruned: {}", rate(s.jobs, pruned));
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s = settings()?;
    println!(
        "apply-bench: {} jobs applied (baseline: {} created one at a time)",
        s.jobs, s.baseline
    );
    let wants = |engine: &str| s.only.as_deref().is_none_or(|only| only == engine);
    if wants("sqlite") {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        bench("sqlite", &url, &s).await?;
    }
    if wants("postgres") {
        let server = PgServer::start_with(PgOptions {
            fsync: true,
            listen: Listen::Tcp,
            ..PgOptions::default()
        })?;
        let url = server.create_database("bench")?;
        bench("postgres", &url, &s).await?;
    }
    if wants("mariadb") {
        let server = MariaDbServer::start_with_options(MariaDbOptions {
            listen: Listen::Tcp,
            durable: true,
            ..MariaDbOptions::default()
        })?;
        let url = server.create_database("bench")?;
        bench("mariadb", &url, &s).await?;
    }
    Ok(())
}
