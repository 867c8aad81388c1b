//! A chaos run from start to end: the database, whether the binary speaks it, the replicas
//! behind their proxies and the jobs; faults until the duration is spent; then the checks,
//! and the report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::checks;
use super::deck::Deck;
use super::outcome::Outcome;
use super::replicas::Replicas;
use super::runner::{Chaos, Log, Procs, Samples, sample_rss, save_logs};
use super::settings::{
    DEAD_AFTER_S, END_MARGIN_MS, GRACE, HEARTBEAT, RSS_MIN_LIFE_S, RSS_WARMUP_S, SETTLE, Settings,
};
use crate::built::plugins_dir;
use crate::collector::Collector;
use crate::db::{Pool, TestDb, probe};

/// Run the chaos described by `s`; whether every check passed (`Err`: the run could not go
/// on).
pub async fn run(s: Settings) -> anyhow::Result<bool> {
    let out = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/chaos-{}", s.seed)));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let log = Log {
        start: Instant::now(),
        file: Mutex::new(std::fs::File::create(out.join("events.log"))?),
    };
    let binary = crate::built::binary();
    let names = |kinds: &[super::Fault]| -> String {
        let names: Vec<&str> = kinds.iter().map(|f| f.name()).collect();
        names.join(",")
    };
    log.say(format!(
        "seed {} db {} duration {:?} replicas {} jobs {} gaps {:?}..{:?} faults {} first {} \
         binary {} output {}",
        s.seed,
        s.db,
        s.duration,
        s.replicas,
        s.jobs,
        s.min_gap,
        s.max_gap,
        names(&s.faults),
        names(&s.first),
        binary.display(),
        out.display()
    ));

    let db = TestDb::start(s.db, "chaos").with_context(|| format!("starting {}", s.db))?;
    let mut args: Vec<String> = [
        "--heartbeat-interval",
        HEARTBEAT,
        "--dead-after",
        &format!("{DEAD_AFTER_S}s"),
        "--grace-period",
        GRACE,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(s.db.replica_args().iter().map(|a| a.to_string()));
    // A private plugins directory with only the reporter (the hot-swap fault rewrites it).
    let plugins = tempfile::Builder::new()
        .prefix("chaos-plugins-")
        .tempdir()?;
    std::fs::copy(
        plugins_dir().join("reporter.wasm"),
        plugins.path().join("reporter.wasm"),
    )
    .context("copying reporter.wasm")?;
    let mut c = Replicas::new(plugins.path().to_path_buf(), binary.clone(), args);
    // Does the binary speak this engine at all? It answers through the first replica's proxy.
    let url = db.replica_url(c.proxy(&db, "r1").await?.addr());
    probe(&binary, s.db, &url)
        .await
        .map_err(|e| anyhow!("cannot run on {}: {e}", s.db))?;
    let sql = Pool::connect(&db.direct_url())
        .await
        .with_context(|| format!("connecting to {}", s.db))?;

    let logs: Arc<Mutex<Vec<(String, PathBuf)>>> = Arc::default();
    {
        // Keep the replicas' logs when the harness panics (a replica that does not start).
        let logs = logs.clone();
        let out = out.clone();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(logs) = logs.try_lock() {
                save_logs(&out, &logs);
            }
            default(info);
        }));
    }
    let procs: Procs = Arc::default();
    let samples: Samples = Arc::default();
    let sampler = sample_rss(procs.clone(), samples.clone());
    let seed = s.seed;
    let mut chaos = Chaos {
        rng: StdRng::seed_from_u64(seed),
        log,
        out,
        db,
        sql,
        c,
        collector: Collector::start().await,
        http: reqwest::Client::new(),
        jobs: Vec::new(),
        procs,
        logs,
        next_replica: s.replicas,
        next_job: 0,
        plugin_version: 0,
        faults: BTreeMap::new(),
        triggers: Vec::new(),
        triggers_refused: 0,
        s,
    };
    let result = chaos_run(&mut chaos, samples).await;
    sampler.abort();
    chaos.save_logs();
    match result {
        Ok(passed) => Ok(passed),
        Err(e) => {
            chaos.log.say(format!("run aborted: {e:#}"));
            Err(e)
        }
    }
}

async fn chaos_run(ch: &mut Chaos, samples: Samples) -> anyhow::Result<bool> {
    for k in 1..=ch.s.replicas {
        ch.start_replica(&format!("r{k}"), None).await?;
    }
    ch.log.say(format!("{} replicas ready", ch.s.replicas));
    ch.create_jobs().await?;
    ch.log.say(format!(
        "{} jobs created, {} of them with retries",
        ch.s.jobs,
        ch.jobs.iter().filter(|j| j.retry.is_some()).count()
    ));
    let settled = ch.settle(SETTLE).await.map_err(anyhow::Error::msg)?;
    ch.log
        .say(format!("jobs claimed and balanced in {settled:.1?}"));
    let mut unsettled = Vec::new();

    // Faults, one at a time, until the duration is spent.
    let faults_start = Instant::now();
    let mut deck = Deck::new(&ch.s.faults, &ch.s.first, &mut ch.rng);
    while faults_start.elapsed() < ch.s.duration {
        let gap = ch.secs(
            ch.s.min_gap.as_secs_f64(),
            ch.s.max_gap.as_secs_f64() + 0.001,
        );
        tokio::time::sleep(gap).await;
        if faults_start.elapsed() >= ch.s.duration {
            break;
        }
        let fault = deck.deal(&mut ch.rng);
        ch.inject(fault).await?;
        match ch.settle(SETTLE).await {
            Ok(took) => ch.log.say(format!("  settled (balanced) in {took:.1?}")),
            Err(e) => {
                ch.log.say(format!("  {e}"));
                unsettled.push(format!("after {fault:?}: {e}"));
            }
        }
    }
    ch.log.say(format!("faults stop: {:?}", ch.faults));

    // (5) Ownership balanced within one over the live replicas.
    let mut balance = Outcome::new("5 ownership balanced within one");
    let start = Instant::now();
    let counts = loop {
        let counts = ch.live_owner_counts().await;
        if let Some(counts) = &counts {
            let max = counts.values().max().copied().unwrap_or(0);
            let min = counts.values().min().copied().unwrap_or(0);
            if max - min <= 1 {
                break counts.clone();
            }
        }
        if start.elapsed() > SETTLE {
            balance.violations.push(format!(
                "not balanced within {SETTLE:?}: {:?}",
                ch.sql.owner_counts().await
            ));
            break counts.unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    balance.figure(
        "balanced after the last fault",
        format!("{:.1?}", start.elapsed()),
    );
    balance.figure(
        "faults after which the cluster did not settle",
        unsettled.len(),
    );
    balance.violations.extend(unsettled);
    balance.figure("final owners", format!("{counts:?}"));

    // Let the ticks up to the cut-off land, then judge.
    tokio::time::sleep(Duration::from_millis(END_MARGIN_MS as u64 + 1000)).await;
    let cutoff = ch.db_now().await? - END_MARGIN_MS;
    let wait = Instant::now();
    // The reports that arrived before the runs table was read: each has its row.
    let (runs, read_before) = loop {
        let read_before = ch.collector.reports().len();
        let runs = ch.sql.runs().await?;
        let (acc, _) = checks::accounting(&runs, &ch.jobs, cutoff);
        if acc.passed() || wait.elapsed() > Duration::from_secs(30) {
            break (runs, read_before);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    };
    let reports = ch.collector.reports_with_attempts();
    let samples = samples.lock().unwrap().clone();

    let first = checks::executions(&reports, read_before, &runs, &ch.jobs, cutoff);
    let (second, third) = checks::accounting(&runs, &ch.jobs, cutoff);
    let fourth = checks::rss(&samples, RSS_WARMUP_S, RSS_MIN_LIFE_S);
    let mut sixth = checks::triggers(&ch.triggers, &runs, &ch.jobs, cutoff);
    sixth.figure(
        "triggers refused (409, a run in progress)",
        ch.triggers_refused,
    );
    let seventh = checks::attempts(&reports, &runs, &ch.jobs, cutoff);
    let outcomes = [first, second, third, fourth, balance, sixth, seventh];

    let mut report = String::new();
    report += &format!(
        "seed {} duration {:?} replicas {} jobs {} (live at the end {}, deleted {})\n",
        ch.s.seed,
        ch.s.duration,
        ch.s.replicas,
        ch.s.jobs,
        ch.live_job_count(),
        ch.jobs.iter().filter(|j| j.deleted).count()
    );
    report += &format!(
        "faults injected: {} ({:?})\n",
        ch.faults.values().sum::<usize>(),
        ch.faults
    );
    for o in &outcomes {
        report += &o.render(50);
    }
    let passed = outcomes.iter().all(|o| o.passed());
    report += &format!("chaos: {}\n", if passed { "PASSED" } else { "FAILED" });
    for line in report.lines() {
        ch.log.say(line);
    }
    std::fs::write(ch.out.join("summary.txt"), &report)?;
    Ok(passed)
}
