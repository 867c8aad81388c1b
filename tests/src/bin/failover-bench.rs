//! Failover time of a cluster of real replicas on a real PostgreSQL and a real MariaDB server
//! (one after the other, in the same run): from the moment one
//! replica is killed (`kill -9`) or stopped (`SIGSTOP`) to the first execution of each of its
//! jobs on a survivor, as the collector sees it (the `reporter` plugin POSTs every execution).
//!
//! `cargo run --release -p wasmcron-e2e --bin failover-bench -- [--runs N] [--jobs N]
//! [--replicas N] [--only postgres|mariadb]`
//!
//! Replicas run with the default thresholds (heartbeat every 2 s, dead after 10 s). The binary
//! is `$WASMCRON_BIN`, else `target/release/wasmcron` when it exists, else the debug build.
//! Prints a markdown table: p50 and max over every orphaned job of every run.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use wasmcron_e2e::cluster::Cluster;
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::mariadb::{MariaDbOptions, MariaDbServer};
use wasmcron_e2e::pg::{Listen, PgOptions, PgServer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Kill,
    Stop,
}

impl Failure {
    fn label(self) -> &'static str {
        match self {
            Failure::Kill => "kill -9",
            Failure::Stop => "SIGSTOP",
        }
    }
}

#[derive(Debug)]
struct Settings {
    runs: usize,
    jobs: usize,
    replicas: usize,
    only: Option<String>,
}

/// The database server of one engine, over TCP as a deployment connects.
enum Server {
    Postgres(PgServer),
    MariaDb(MariaDbServer),
}

impl Server {
    fn fresh_database(&self) -> anyhow::Result<String> {
        Ok(match self {
            Server::Postgres(server) => server.fresh_database()?,
            Server::MariaDb(server) => server.fresh_database()?,
        })
    }
}

impl Settings {
    fn from_args() -> anyhow::Result<Settings> {
        let mut settings = Settings {
            runs: 5,
            jobs: 90,
            replicas: 3,
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let value = args
                .next()
                .with_context(|| format!("{arg} needs a value"))?;
            if arg == "--only" {
                settings.only = Some(value);
                continue;
            }
            let n: usize = value.parse().with_context(|| format!("{arg} {value}"))?;
            match arg.as_str() {
                "--runs" => settings.runs = n,
                "--jobs" => settings.jobs = n,
                "--replicas" => settings.replicas = n.max(2),
                other => bail!("unknown argument {other}"),
            }
        }
        Ok(settings)
    }
}

fn bench_binary() -> Option<PathBuf> {
    if std::env::var_os("WASMCRON_BIN").is_some() {
        return None;
    }
    let release = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/wasmcron");
    release.is_file().then_some(release)
}

/// One failure: the failover time of each orphaned job.
async fn one_run(
    server: &Server,
    settings: &Settings,
    failure: Failure,
) -> anyhow::Result<Vec<Duration>> {
    let collector = Collector::start().await;
    let mut cluster = Cluster::new(&server.fresh_database()?, &[]).await;
    cluster.binary = bench_binary();
    let ids: Vec<String> = (1..=settings.replicas).map(|i| format!("r{i}")).collect();
    for id in &ids {
        cluster.start(id).await;
    }
    cluster
        .create_reporter_jobs("r1", settings.jobs, "job", &collector, json!({}))
        .await;
    let total = settings.jobs as i64;
    cluster
        .wait_for("balanced", Duration::from_secs(60), || async {
            let counts = cluster.owner_counts().await;
            let owned: Vec<i64> = ids
                .iter()
                .map(|id| counts.get(id).copied().unwrap_or(0))
                .collect();
            owned.iter().sum::<i64>() == total
                && owned.iter().max().unwrap() - owned.iter().min().unwrap() <= 1
        })
        .await;
    cluster
        .wait_for("every job fired", Duration::from_secs(30), || async {
            let fired: HashSet<String> =
                collector.reports().into_iter().map(|e| e.job_id).collect();
            fired.len() == settings.jobs
        })
        .await;
    // Let every replica settle into steady ticking.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let victim = "r2";
    let orphans: HashSet<String> = cluster
        .owners()
        .await
        .into_iter()
        .filter(|(_, owner, _)| owner.as_deref() == Some(victim))
        .map(|(id, _, _)| id)
        .collect();
    let cursor = collector.reports().len();
    let failed_at = Instant::now();
    match failure {
        Failure::Kill => cluster.host_mut(victim).kill9(),
        Failure::Stop => cluster.host(victim).sigstop(),
    }
    let first = collector
        .first_elsewhere(&orphans, victim, cursor, failed_at, Duration::from_secs(60))
        .await;
    if failure == Failure::Stop {
        cluster.host(victim).sigcont();
    }
    if first.len() < orphans.len() {
        bail!(
            "{} of {} orphaned jobs never fired on a survivor\n{}",
            orphans.len() - first.len(),
            orphans.len(),
            cluster.logs_tail(30)
        );
    }
    if !collector.duplicates().is_empty() {
        bail!("ticks executed twice: {:?}", collector.duplicates());
    }
    Ok(first.into_values().collect())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_args()?;
    let binary = bench_binary()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| wasmcron_e2e::built::binary().display().to_string());
    eprintln!(
        "failover-bench: {} replicas, {} jobs every second, {} runs per failure, binary {binary}",
        settings.replicas, settings.jobs, settings.runs
    );
    let wants = |engine: &str| settings.only.as_deref().is_none_or(|only| only == engine);
    let mut rows = Vec::new();
    for engine in ["postgres", "mariadb"] {
        if !wants(engine) {
            continue;
        }
        // Over TCP, as a deployment connects; durable commits on both.
        let server = match engine {
            "postgres" => Server::Postgres(PgServer::start_with(PgOptions {
                listen: Listen::Tcp,
                fsync: true,
                ..PgOptions::default()
            })?),
            _ => Server::MariaDb(MariaDbServer::start_with_options(MariaDbOptions {
                listen: Listen::Tcp,
                durable: true,
                ..MariaDbOptions::default()
            })?),
        };
        for failure in [Failure::Kill, Failure::Stop] {
            let mut all = Vec::new();
            let mut worst_per_run = Vec::new();
            for run in 1..=settings.runs {
                let times = one_run(&server, &settings, failure).await?;
                let worst = times.iter().max().copied().unwrap_or_default();
                eprintln!(
                    "  {engine} {} run {run}: {} orphaned jobs, slowest {}",
                    failure.label(),
                    times.len(),
                    secs(worst)
                );
                worst_per_run.push(worst);
                all.extend(times);
            }
            all.sort();
            rows.push((engine, failure, all, worst_per_run));
        }
    }
    println!(
        "| database | failure | thresholds | runs | orphaned jobs | p50 | p90 | max |\n|---|---|---|---|---|---|---|---|"
    );
    for (engine, failure, all, worst) in &rows {
        println!(
            "| {engine} | {} | heartbeat 2 s, dead after 10 s | {} | {} | {} | {} | {} |",
            failure.label(),
            worst.len(),
            all.len(),
            secs(percentile(all, 0.5)),
            secs(percentile(all, 0.9)),
            secs(all.last().copied().unwrap_or_default()),
        );
    }
    Ok(())
}
