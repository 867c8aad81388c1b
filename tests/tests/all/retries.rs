//! Retries of failed runs end to end: the `reporter` plugin POSTs every attempt to a collector
//! run by the test, which records it and answers 500 to the attempts it is told to fail, so
//! the attempts are counted where their side effect happens. Every `(job, tick, attempt)` runs
//! once; a tick is tried at most `attempts` times; a retry waiting in its backoff when its
//! owner is killed with `kill -9` runs once, on a survivor, at its due time (PostgreSQL and
//! MariaDB, several replicas); a retry planned before a restart runs after it (SQLite, one
//! replica).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;

on_every_engine! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    every_attempt_runs_once_and_a_tick_is_tried_at_most_n_times,
    a_retry_waiting_when_its_owner_is_killed_runs_once_on_a_survivor,
}

/// Short thresholds: these tests are not about the defaults.
const FAST: &[&str] = &["--heartbeat-interval", "1s", "--dead-after", "5s"];

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// The attempts reported per `(job, tick)`, in the order they arrived.
fn attempts_by_tick(collector: &Collector) -> BTreeMap<(String, i64), Vec<i64>> {
    let mut by_tick: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
    for (r, attempt) in collector.reports_with_attempts() {
        by_tick
            .entry((r.job_id, r.scheduled_at))
            .or_default()
            .push(attempt);
    }
    by_tick
}

/// A reporter job body with a retry policy.
fn reporter(name: &str, schedule: &str, collector: &Collector, retry: Value) -> Value {
    json!({
        "name": name, "schedule": schedule, "plugin": "reporter",
        "input": {"collector": collector.url()},
        "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
        "retry": retry,
    })
}

/// 2 replicas, 4 jobs every 3 s with 3 attempts; the first two attempts of every tick fail:
/// each tick is tried exactly 1, 2, 3 and ends succeeded, each attempt reported once and
/// recorded as its own run. Then every attempt fails: no tick gets a fourth.
async fn every_attempt_runs_once_and_a_tick_is_tried_at_most_n_times(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    collector.fail_attempts_below(3);
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    let retry = json!({"attempts": 3, "backoff": "300ms", "max_backoff": "600ms"});
    let mut names = Vec::new();
    for i in 0..4 {
        let name = format!("flaky-{i}");
        let body = reporter(&name, "@every 3s", &collector, retry.clone());
        let (status, job) = c.host("r1").send("POST", "/api/v1/jobs", body).await;
        assert_eq!(status, 201, "{job}");
        assert_eq!(job["retry"]["attempts"], 3, "{job}");
        names.push(name);
    }
    c.wait_for(
        "two ticks of every job succeeded on their third attempt",
        Duration::from_secs(60),
        || async {
            let done: BTreeMap<String, usize> = attempts_by_tick(&collector)
                .into_iter()
                .filter(|(_, attempts)| attempts.contains(&3))
                .fold(BTreeMap::new(), |mut n, ((job, _), _)| {
                    *n.entry(job).or_default() += 1;
                    n
                });
            done.len() == 4 && done.values().all(|&n| n >= 2)
        },
    )
    .await;
    for name in &names {
        let runs = c.host("r2").runs(name).await;
        let mut by_tick: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        for r in &runs {
            by_tick
                .entry(r["scheduled_at"].as_str().unwrap().to_owned())
                .or_default()
                .push((
                    r["attempt"].as_i64().unwrap(),
                    r["status"].as_str().unwrap().to_owned(),
                ));
        }
        for (tick, mut attempts) in by_tick {
            attempts.sort();
            if attempts
                .iter()
                .any(|(_, s)| s == "running" || s == "skipped")
            {
                continue;
            }
            if attempts.len() == 3 {
                let statuses: Vec<&str> = attempts.iter().map(|(_, s)| s.as_str()).collect();
                assert_eq!(
                    statuses,
                    ["failed", "failed", "succeeded"],
                    "{name} {tick}: {attempts:?}"
                );
            }
            let numbers: Vec<i64> = attempts.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                numbers,
                (1..=numbers.len() as i64).collect::<Vec<_>>(),
                "{name} {tick}: attempts are numbered from 1 without a gap"
            );
        }
    }

    // Now every attempt fails: a tick ends after its third.
    collector.fail_attempts_below(i64::MAX);
    let before: BTreeSet<(String, i64)> = attempts_by_tick(&collector).into_keys().collect();
    c.wait_for(
        "a tick of every job failed its three attempts",
        Duration::from_secs(60),
        || async {
            let jobs: BTreeSet<String> = attempts_by_tick(&collector)
                .into_iter()
                .filter(|(key, attempts)| !before.contains(key) && attempts.contains(&3))
                .map(|((job, _), _)| job)
                .collect();
            jobs.len() == 4
        },
    )
    .await;
    // Longer than any backoff: a fourth attempt would have come by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let dups = collector.duplicate_attempts();
    assert!(dups.is_empty(), "attempts run twice: {dups:?}");
    for ((job, tick), attempts) in attempts_by_tick(&collector) {
        assert!(
            attempts.iter().all(|&a| (1..=3).contains(&a)),
            "{job} {tick}: {attempts:?}"
        );
    }
}

/// 2 replicas; a job whose first attempt fails, with a backoff of 8 s. While the second
/// attempt waits, its owner is killed with `kill -9`: the survivor runs it once, not before
/// its due time (database clock), and the tick ends succeeded.
async fn a_retry_waiting_when_its_owner_is_killed_runs_once_on_a_survivor(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    collector.fail_attempts_below(2);
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    let body = reporter(
        "retried",
        "@every 1h",
        &collector,
        json!({"attempts": 3, "backoff": "8s"}),
    );
    let (status, job) = c.host("r1").send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    c.wait_for("the job has an owner", Duration::from_secs(20), || async {
        c.owners()
            .await
            .iter()
            .any(|(j, o, _)| *j == id && o.is_some())
    })
    .await;
    let (status, answer) = c
        .host("r1")
        .send("POST", &format!("/api/v1/jobs/{id}/trigger"), Value::Null)
        .await;
    assert_eq!(status, 202, "{answer}");
    c.wait_for("the first attempt ran", Duration::from_secs(20), || async {
        !collector.reports().is_empty()
    })
    .await;
    let first = collector.reports_with_attempts()[0].clone();
    assert_eq!(first.1, 1);
    let owner = first.0.instance_id.clone();
    c.wait_for(
        "the first attempt is recorded failed",
        Duration::from_secs(10),
        || async {
            c.host("r1")
                .runs("retried")
                .await
                .iter()
                .any(|r| r["attempt"] == 1 && r["status"] == "failed")
        },
    )
    .await;
    c.host_mut(&owner).kill9();
    let survivor = if owner == "r1" { "r2" } else { "r1" };
    c.wait_for(
        "the second attempt ran on the survivor",
        Duration::from_secs(40),
        || async {
            collector
                .reports_with_attempts()
                .iter()
                .any(|(_, attempt)| *attempt == 2)
        },
    )
    .await;
    // Past its due time and then some: nothing runs it again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reports = collector.reports_with_attempts();
    let seconds: Vec<_> = reports.iter().filter(|(_, a)| *a == 2).collect();
    assert_eq!(seconds.len(), 1, "the retry ran once: {reports:?}");
    assert_eq!(seconds[0].0.instance_id, survivor);
    assert_eq!(seconds[0].0.scheduled_at, first.0.scheduled_at);
    assert!(
        reports.iter().all(|(_, a)| *a <= 2),
        "no third attempt: {reports:?}"
    );
    let runs = c.host(survivor).runs("retried").await;
    let attempt = |n: i64| {
        runs.iter()
            .find(|r| r["attempt"] == n)
            .unwrap_or_else(|| panic!("attempt {n} in {runs:?}"))
    };
    let failed_at = ms(attempt(1)["finished_at"].as_str().unwrap());
    let retried_at = ms(attempt(2)["started_at"].as_str().unwrap());
    assert!(
        retried_at - failed_at >= 8_000,
        "the retry started {} ms after the failure, before its backoff of 8 s",
        retried_at - failed_at
    );
    assert_eq!(attempt(2)["status"], "succeeded");
    assert_eq!(attempt(2)["instance_id"], survivor);
    assert_eq!(attempt(2)["manual"], true);
}

/// One replica on SQLite: a retry planned before a graceful restart runs after it, once, at
/// its due time; `tick.attempt` reaches the plugin.
#[tokio::test]
async fn sqlite_a_planned_retry_survives_a_restart() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let plugins = wasmcron_e2e::built::plugins_dir();
    let collector = Collector::start().await;
    collector.fail_attempts_below(2);
    let mut host = Host::start(HostOptions::new(&url, "solo", &plugins)).await;
    let body = reporter(
        "retried",
        "@every 1h",
        &collector,
        json!({"attempts": 2, "backoff": "6s"}),
    );
    let (status, job) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    host.wait_for("the job is held", Duration::from_secs(20), || async {
        let (_, job) = host.get("/api/v1/jobs/retried").await;
        job["owner"].is_string()
    })
    .await;
    let (status, answer) = host
        .send("POST", "/api/v1/jobs/retried/trigger", Value::Null)
        .await;
    assert_eq!(status, 202, "{answer}");
    host.wait_for(
        "the first attempt is recorded failed",
        Duration::from_secs(20),
        || async {
            host.runs("retried")
                .await
                .iter()
                .any(|r| r["attempt"] == 1 && r["status"] == "failed")
        },
    )
    .await;
    assert!(host.stop(Duration::from_secs(10)).success());
    let host = Host::start(HostOptions::new(&url, "solo", &plugins)).await;
    host.wait_for("the retry ran", Duration::from_secs(30), || async {
        collector
            .reports_with_attempts()
            .iter()
            .any(|(_, a)| *a == 2)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts: Vec<i64> = collector
        .reports_with_attempts()
        .iter()
        .map(|(_, a)| *a)
        .collect();
    assert_eq!(attempts, [1, 2]);
    let runs = host.runs("retried").await;
    let statuses: Vec<(i64, &str)> = runs
        .iter()
        .map(|r| {
            (
                r["attempt"].as_i64().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [(1, "failed"), (2, "succeeded")]);
    let failed_at = ms(runs[0]["finished_at"].as_str().unwrap());
    let retried_at = ms(runs[1]["started_at"].as_str().unwrap());
    assert!(
        retried_at - failed_at >= 6_000,
        "{}",
        retried_at - failed_at
    );
}

on_every_engine! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_job_pauses_after_failures_and_a_stale_job_recovers,
}

/// The value of an unlabelled sample in Prometheus text.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// 2 replicas. A job with `pause_after_failures: 3` whose every run fails pauses itself after
/// its third failed tick, saying why, and resuming clears the reason. A job with
/// `stale_after: 3s` whose runs fail is stale (in its view and in the cluster's metric) and
/// recovers at its next success.
async fn a_job_pauses_after_failures_and_a_stale_job_recovers(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    collector.fail_attempts_below(i64::MAX);
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    let mut fragile = reporter("fragile", "@every 1s", &collector, Value::Null);
    fragile["pause_after_failures"] = json!(3);
    let (status, job) = c.host("r1").send("POST", "/api/v1/jobs", fragile).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["pause_after_failures"], 3);
    assert_eq!(job["paused_reason"], Value::Null);
    let mut watched = reporter("watched", "@every 2s", &collector, Value::Null);
    watched["stale_after"] = json!("3s");
    let (status, job) = c.host("r2").send("POST", "/api/v1/jobs", watched).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["stale"], false);

    c.wait_for("fragile paused itself", Duration::from_secs(30), || async {
        c.host("r2").get("/api/v1/jobs/fragile").await.1["status"] == "paused"
    })
    .await;
    let (_, view) = c.host("r2").get("/api/v1/jobs/fragile").await;
    assert_eq!(view["paused_reason"], "failures", "{view}");
    let runs = c.host("r1").runs("fragile").await;
    let failed = runs.iter().filter(|r| r["status"] == "failed").count();
    assert!(
        (3..=4).contains(&failed),
        "paused after its third failed tick (a fourth may have been in flight): {runs:?}"
    );
    assert!(runs.iter().all(|r| r["status"] != "succeeded"));

    c.wait_for("watched is stale", Duration::from_secs(30), || async {
        c.host("r1").get("/api/v1/jobs/watched").await.1["stale"] == true
    })
    .await;
    c.wait_for(
        "the cluster counts one stale job",
        Duration::from_secs(30),
        || async {
            let (_, m) = c
                .host("r2")
                .request(None, "GET", "/metrics", Value::Null)
                .await;
            sample(&m, "wasmcron_stale_jobs") == Some(1.0)
        },
    )
    .await;

    // Runs succeed again: the stale job recovers; the paused job resumes without a reason.
    collector.fail_attempts_below(0);
    c.wait_for("watched recovered", Duration::from_secs(30), || async {
        let (_, view) = c.host("r2").get("/api/v1/jobs/watched").await;
        view["stale"] == false && view["last_success_at"].is_string()
    })
    .await;
    c.wait_for(
        "the cluster counts no stale job",
        Duration::from_secs(30),
        || async {
            let (_, m) = c
                .host("r1")
                .request(None, "GET", "/metrics", Value::Null)
                .await;
            sample(&m, "wasmcron_stale_jobs") == Some(0.0)
        },
    )
    .await;
    let (status, resumed) = c
        .host("r1")
        .send("POST", "/api/v1/jobs/fragile/resume", Value::Null)
        .await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["paused_reason"], Value::Null);
}
