//! Alerts to webhooks end to end, with a receiver run by the test on loopback: each alert is
//! delivered once by a cluster of two replicas, also when the receiver was down for 30 s and
//! the deliveries were retried; a failing job with retries gives one `run.failed` per tick
//! (from its last attempt); a job that pauses itself gives one `job.paused`; a replica killed
//! while its post hangs leaves the alert to the other, which delivers it once the killed one
//! is seen dead (PostgreSQL and MariaDB). On SQLite with one replica: a stale job gives `job.stale` then `job.recovered`,
//! to a JSON and a Slack webhook alike.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::events::subscribe;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;
use wasmcron_e2e::webhook::Receiver;

on_every_engine! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    each_alert_is_delivered_once_even_after_the_receiver_was_down,
    a_replica_killed_while_delivering_leaves_the_alert_to_another,
}

/// Short thresholds: these tests are not about the defaults.
const FAST: &[&str] = &["--heartbeat-interval", "1s", "--dead-after", "5s"];

/// A reporter job whose runs fail or succeed as the collector says.
fn reporter(name: &str, collector: &Collector, extra: Value) -> Value {
    let mut job = json!({
        "name": name, "schedule": "@every 2s", "plugin": "reporter",
        "input": {"collector": collector.url()},
        "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
    });
    for (k, v) in extra.as_object().unwrap() {
        job[k] = v.clone();
    }
    job
}

/// Sets `alerts.webhooks` through `host` and waits until each of `hosts` applies it.
async fn configure(hosts: &[&Host], webhooks: Value) {
    let (status, answer) = hosts[0]
        .send(
            "PUT",
            "/api/v1/settings/alerts.webhooks",
            json!({"value": webhooks}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let count = webhooks.as_array().unwrap().len();
    for host in hosts {
        host.wait_for(
            "the replica applies the webhooks",
            Duration::from_secs(30),
            || async {
                let (_, effective) = host.get("/api/v1/settings/effective").await;
                effective["settings"]["alerts.webhooks_count"] == count
            },
        )
        .await;
    }
}

/// `(job id, tick)` of the received `run.failed` alerts, with how often each arrived.
fn failed_alerts(receiver: &Receiver) -> BTreeMap<(String, String), usize> {
    let mut seen = BTreeMap::new();
    for body in receiver.bodies("run.failed") {
        let key = (
            body["job"]["id"].as_str().unwrap().to_owned(),
            body["scheduled_at"].as_str().unwrap().to_owned(),
        );
        *seen.entry(key).or_default() += 1;
    }
    seen
}

/// The ticks of `job` whose attempt `last` is recorded failed.
async fn failed_for_good(host: &Host, job: &str, last: i64) -> BTreeSet<String> {
    host.runs(job)
        .await
        .iter()
        .filter(|r| r["attempt"] == last && r["status"] == "failed")
        .map(|r| r["scheduled_at"].as_str().unwrap().to_owned())
        .collect()
}

/// The value of an outcome's sample of `wasmcron_alert_deliveries_total`.
fn deliveries(metrics: &str, outcome: &str) -> f64 {
    let prefix = format!("wasmcron_alert_deliveries_total{{outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Two replicas, a webhook with a header; a job whose two attempts per tick fail and a job
/// that pauses itself after two failed ticks. The receiver goes down for 30 s while ticks keep
/// failing, then comes back: every tick whose last attempt failed is alerted exactly once, in
/// tick order, none for a first attempt that was retried; the pause once.
async fn each_alert_is_delivered_once_even_after_the_receiver_was_down(engine: Engine) {
    let _turn = turns::alone().await;
    let mut receiver = Receiver::start().await;
    let collector = Collector::start().await;
    collector.fail_attempts_below(i64::MAX);
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    // Bad input names the field.
    let (status, answer) = c
        .host("r1")
        .send(
            "PUT",
            "/api/v1/settings/alerts.webhooks",
            json!({"value": [{"url": receiver.url(), "events": ["run.exploded"]}]}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.to_string().contains("alerts.webhooks[0].events"),
        "{answer}"
    );
    configure(
        &[c.host("r1"), c.host("r2")],
        json!([{"url": receiver.url(), "headers": {"X-Alert-Token": "s3cret-header"},
                "events": ["run.failed", "job.paused"]}]),
    )
    .await;

    let retried = json!({"retry": {"attempts": 2, "backoff": "200ms", "max_backoff": "200ms"}});
    let (status, job) = c
        .host("r1")
        .send(
            "POST",
            "/api/v1/jobs",
            reporter("failing", &collector, retried),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let failing_id = job["id"].as_str().unwrap().to_owned();
    let pauses = json!({"pause_after_failures": 2});
    let (status, job) = c
        .host("r1")
        .send(
            "POST",
            "/api/v1/jobs",
            reporter("pauser", &collector, pauses),
        )
        .await;
    assert_eq!(status, 201, "{job}");

    c.wait_for(
        "three run.failed alerts of the failing job arrived",
        Duration::from_secs(60),
        || async {
            failed_alerts(&receiver)
                .keys()
                .filter(|(job, _)| *job == failing_id)
                .count()
                >= 3
        },
    )
    .await;

    // Down for 30 s while the job keeps failing; then back.
    receiver.down();
    let down_at = receiver.received().len();
    tokio::time::sleep(Duration::from_secs(30)).await;
    receiver.up().await;
    let (status, answer) = c
        .host("r2")
        .send("POST", "/api/v1/jobs/failing/pause", Value::Null)
        .await;
    assert_eq!(status, 200, "{answer}");
    c.wait_for(
        "no run of the paused job is running",
        Duration::from_secs(30),
        || async {
            let runs = c.host("r1").runs("failing").await;
            !runs.iter().any(|r| r["status"] == "running")
        },
    )
    .await;
    c.wait_for(
        "every tick that failed for good is alerted and nothing is pending",
        Duration::from_secs(120),
        || async {
            let (_, alerts) = c.host("r1").get("/api/v1/alerts?limit=1000").await;
            let pending = alerts
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["status"] == "pending");
            let want = failed_for_good(c.host("r1"), "failing", 2).await;
            let got: BTreeSet<String> = failed_alerts(&receiver)
                .into_keys()
                .filter(|(job, _)| *job == failing_id)
                .map(|(_, tick)| tick)
                .collect();
            !pending && want == got
        },
    )
    .await;
    assert!(
        receiver.received().len() > down_at,
        "alerts raised while the receiver was down arrived after it came back"
    );

    // Exactly once each, and only for ticks whose last attempt failed.
    let alerts = failed_alerts(&receiver);
    let twice: Vec<_> = alerts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "alerts delivered twice: {twice:?}");
    let want = failed_for_good(c.host("r1"), "failing", 2).await;
    let got: BTreeSet<String> = alerts
        .keys()
        .filter(|(job, _)| *job == failing_id)
        .map(|(_, tick)| tick.clone())
        .collect();
    assert_eq!(got, want, "one run.failed per tick that failed for good");

    // In tick order, from the last attempt, with every field and the configured header.
    let bodies: Vec<Value> = receiver
        .bodies("run.failed")
        .into_iter()
        .filter(|b| b["job"]["id"] == failing_id.as_str())
        .collect();
    let ticks: Vec<&str> = bodies
        .iter()
        .map(|b| b["scheduled_at"].as_str().unwrap())
        .collect();
    let mut sorted = ticks.clone();
    sorted.sort();
    assert_eq!(ticks, sorted, "a job's alerts arrive in order");
    for body in &bodies {
        assert_eq!(body["attempt"], 2, "{body}");
        assert_eq!(body["status"], "failed", "{body}");
        assert_eq!(body["job"]["name"], "failing", "{body}");
        assert!(
            body["at"].is_string() && body["error"].is_string(),
            "{body}"
        );
        assert!(["r1", "r2"].contains(&body["instance_id"].as_str().unwrap()));
    }
    for r in receiver.received() {
        assert_eq!(r.headers["x-alert-token"], "s3cret-header");
        assert_eq!(r.headers["content-type"], "application/json");
    }

    // The job that paused itself: one job.paused.
    c.wait_for("the pause is alerted", Duration::from_secs(30), || async {
        !receiver.bodies("job.paused").is_empty()
    })
    .await;
    let paused = receiver.bodies("job.paused");
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert_eq!(paused[0]["job"]["name"], "pauser");

    // The listing shows the host only; some deliveries were retried; the metric counts them.
    let (status, listed) = c.host("r2").get("/api/v1/alerts?limit=1000").await;
    assert_eq!(status, 200, "{listed}");
    let text = listed.to_string();
    assert!(!text.contains("s3cret"), "{text}");
    let listed = listed.as_array().unwrap();
    assert!(listed.iter().all(|a| a["target_host"] == "127.0.0.1"));
    assert!(
        listed
            .iter()
            .any(|a| a["status"] == "delivered" && a["attempts"].as_i64() > Some(1)),
        "some delivery was retried: {text}"
    );
    let mut failed = 0.0;
    let mut delivered = 0.0;
    for id in ["r1", "r2"] {
        let (_, metrics) = c
            .host(id)
            .request(None, "GET", "/metrics", Value::Null)
            .await;
        failed += deliveries(&metrics, "failed");
        delivered += deliveries(&metrics, "delivered");
    }
    assert!(failed >= 1.0, "failed deliveries are counted");
    assert_eq!(
        delivered as usize,
        receiver.received().len(),
        "every delivery is counted once"
    );
}

/// Two replicas; the receiver holds the first post of a `run.failed` without answering, and
/// the replica that posted it is killed with `kill -9`: once it is seen dead (dead-after 5 s,
/// database clock), long before its 60 s lease would run out, the other replica claims the
/// alert and delivers it, once.
async fn a_replica_killed_while_delivering_leaves_the_alert_to_another(engine: Engine) {
    let _turn = turns::alone().await;
    let receiver = Receiver::start().await;
    receiver.hang(true);
    let collector = Collector::start().await;
    collector.fail_attempts_below(i64::MAX);
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    configure(
        &[c.host("r1"), c.host("r2")],
        json!([{"url": receiver.url(), "events": ["run.failed"]}]),
    )
    .await;
    let body = reporter("once", &collector, json!({"schedule": "@every 1h"}));
    let (status, job) = c.host("r1").send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    c.wait_for("the job is held", Duration::from_secs(20), || async {
        c.host("r1").get("/api/v1/jobs/once").await.1["owner"].is_string()
    })
    .await;
    let (status, answer) = c
        .host("r2")
        .send("POST", "/api/v1/jobs/once/trigger", Value::Null)
        .await;
    assert_eq!(status, 202, "{answer}");
    c.wait_for(
        "the alert's post is held by the receiver",
        Duration::from_secs(30),
        || async { receiver.held() == 1 },
    )
    .await;
    // Within the post's 10 s timeout: the holder never learns how it went.
    let holders = c.pool.alert_holders().await.unwrap();
    assert_eq!(holders.len(), 1, "{holders:?}");
    let holder = holders[0].clone();
    c.host_mut(&holder).kill9();
    receiver.hang(false);
    let survivor = if holder == "r1" { "r2" } else { "r1" };
    // Dead-after 5 s plus a poll, far from the lease's 60 s: the deadline fails a survivor
    // that waits for the lease.
    c.wait_for(
        "the survivor delivers the alert once the holder is seen dead",
        Duration::from_secs(40),
        || async { receiver.bodies("run.failed").len() == 1 },
    )
    .await;
    c.wait_for(
        "the delivery is recorded",
        Duration::from_secs(10),
        || async {
            let (_, alerts) = c.host(survivor).get("/api/v1/alerts").await;
            alerts[0]["status"] == "delivered"
        },
    )
    .await;
    let (_, alerts) = c.host(survivor).get("/api/v1/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(
        alerts[0]["attempts"], 1,
        "the killed replica recorded nothing: {alerts}"
    );
    assert_eq!(receiver.held(), 1, "no other post was made meanwhile");
    assert_eq!(receiver.bodies("run.failed").len(), 1);
}

/// One replica on a fresh SQLite database (kept while the directory lives), a webhook
/// receiver, and a collector that fails every attempt until told otherwise.
async fn solo_with_failing_jobs() -> (tempfile::TempDir, Host, Receiver, Collector) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let plugins = wasmcron_e2e::built::plugins_dir();
    let receiver = Receiver::start().await;
    let collector = Collector::start().await;
    collector.fail_attempts_below(i64::MAX);
    let host = Host::start(HostOptions::new(&url, "solo", &plugins)).await;
    (dir, host, receiver, collector)
}

/// One replica on SQLite: a stale job gives `job.stale`, then `job.recovered` once it
/// succeeds, to a JSON and a Slack webhook alike; its failed ticks one `run.failed` each.
#[tokio::test]
async fn sqlite_a_stale_job_alerts_stale_then_recovered() {
    let _turn = turns::beside_others().await;
    let (_dir, host, receiver, collector) = solo_with_failing_jobs().await;
    configure(
        &[&host],
        json!([
            {"url": receiver.url()},
            {"url": format!("{}&format=slack", receiver.url()), "format": "slack",
             "events": ["job.stale", "job.recovered"]},
        ]),
    )
    .await;
    let mut stream = subscribe(&host, "?kind=job.stale,job.recovered", None).await;
    let body = reporter("watched", &collector, json!({"stale_after": "3s"}));
    let (status, job) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    let stale = stream
        .wait_for("job.stale streamed", Duration::from_secs(40), |e| {
            e["kind"] == "job.stale"
        })
        .await;
    assert_eq!(stale["data"]["job"], "watched", "{stale}");
    let (_, view) = host.get("/api/v1/jobs/watched").await;
    assert_eq!(view["stale"], true, "{view}");
    host.wait_for("job.stale arrives", Duration::from_secs(40), || async {
        receiver.bodies("job.stale").len() == 2
    })
    .await;
    collector.fail_attempts_below(0);
    stream
        .wait_for("job.recovered streamed", Duration::from_secs(40), |e| {
            e["kind"] == "job.recovered"
        })
        .await;
    host.wait_for("job.recovered arrives", Duration::from_secs(40), || async {
        receiver.bodies("job.recovered").len() == 2
    })
    .await;
    let (_, view) = host.get("/api/v1/jobs/watched").await;
    assert_eq!(view["stale"], false, "{view}");
    assert!(view["last_success_at"].is_string(), "{view}");
    let (status, answer) = host
        .send("POST", "/api/v1/jobs/watched/pause", Value::Null)
        .await;
    assert_eq!(status, 200, "{answer}");
    host.wait_for("nothing is pending", Duration::from_secs(30), || async {
        let (_, alerts) = host.get("/api/v1/alerts").await;
        let alerts = alerts.as_array().unwrap().clone();
        !alerts.iter().any(|a| a["status"] == "pending")
    })
    .await;

    let received: Vec<Value> = receiver.received().into_iter().map(|r| r.body).collect();
    let json: Vec<&Value> = received.iter().filter(|b| b["event"].is_string()).collect();
    let events: Vec<&str> = json
        .iter()
        .map(|b| b["event"].as_str().unwrap())
        .filter(|e| ["job.stale", "job.recovered"].contains(e))
        .collect();
    assert_eq!(events, ["job.stale", "job.recovered"]);
    let stale = json.iter().find(|b| b["event"] == "job.stale").unwrap();
    assert_eq!(stale["job"]["name"], "watched");
    assert!(stale["scheduled_at"].is_null() && stale["attempt"].is_null());
    let slack: Vec<&str> = received.iter().filter_map(|b| b["text"].as_str()).collect();
    assert_eq!(slack.len(), 2, "{slack:?}");
    assert!(
        slack[0].starts_with("wasmcron job.stale: job watched ("),
        "{slack:?}"
    );
    assert!(
        slack[1].starts_with("wasmcron job.recovered: job watched ("),
        "{slack:?}"
    );

    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    for b in json.iter().filter(|b| b["event"] == "run.failed") {
        *failed
            .entry(b["scheduled_at"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(failed.values().all(|n| *n == 1), "{failed:?}");
    let ticks = failed_for_good(&host, "watched", 1).await;
    assert_eq!(failed.keys().cloned().collect::<BTreeSet<_>>(), ticks);
}

/// One replica on SQLite, killed and restarted 9 s later: the ticks it missed are recorded
/// `missed` by the job's misfire policy in one planning, and alerted once, with their count.
#[tokio::test]
async fn sqlite_ticks_missed_while_down_are_alerted_once_with_their_count() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let plugins = wasmcron_e2e::built::plugins_dir();
    let receiver = Receiver::start().await;
    let collector = Collector::start().await;
    let options = HostOptions::new(&url, "solo", &plugins);
    let mut host = Host::start(options.clone()).await;
    configure(
        &[&host],
        json!([{"url": receiver.url(), "events": ["tick.missed"]}]),
    )
    .await;
    let body = reporter(
        "every-second",
        &collector,
        json!({"schedule": "@every 1s", "misfire": "skip"}),
    );
    let (status, job) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    host.wait_for("two runs", Duration::from_secs(20), || async {
        collector.reports().len() >= 2
    })
    .await;
    host.kill9();
    tokio::time::sleep(Duration::from_secs(9)).await;
    let host = Host::start(options).await;
    host.wait_for("tick.missed arrives", Duration::from_secs(30), || async {
        !receiver.bodies("tick.missed").is_empty()
    })
    .await;
    let missed: Vec<Value> = host
        .runs("every-second")
        .await
        .into_iter()
        .filter(|r| r["status"] == "missed")
        .collect();
    let alerts = receiver.bodies("tick.missed");
    assert_eq!(alerts.len(), 1, "one alert per planning: {alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert["job"]["name"], "every-second");
    assert_eq!(alert["status"], "missed");
    assert_eq!(
        alert["count"].as_u64(),
        Some(missed.len() as u64),
        "{alert}"
    );
    let first = missed
        .iter()
        .map(|r| r["scheduled_at"].as_str().unwrap())
        .min()
        .unwrap();
    assert_eq!(alert["scheduled_at"], first);
}

/// One replica on SQLite: a job that fails every tick pauses itself after three (its reason
/// `failures` in the API), alerted once as `job.paused`; resumed and succeeding, it is
/// alerted `job.recovered` once, for the tick that succeeded, and streams the event.
#[tokio::test]
async fn sqlite_a_job_paused_by_failures_is_alerted_then_recovered_once() {
    let _turn = turns::beside_others().await;
    let (_dir, host, receiver, collector) = solo_with_failing_jobs().await;
    configure(
        &[&host],
        json!([{"url": receiver.url(), "events": ["job.paused", "job.recovered"]}]),
    )
    .await;
    let mut stream = subscribe(&host, "?kind=job.recovered", None).await;
    let body = reporter(
        "flaky",
        &collector,
        json!({"schedule": "@every 1s", "pause_after_failures": 3}),
    );
    let (status, job) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    host.wait_for("the job pauses itself", Duration::from_secs(30), || async {
        let (_, view) = host.get("/api/v1/jobs/flaky").await;
        view["status"] == "paused"
    })
    .await;
    let (_, view) = host.get("/api/v1/jobs/flaky").await;
    assert_eq!(view["paused_reason"], "failures", "{view}");
    host.wait_for("job.paused arrives", Duration::from_secs(30), || async {
        receiver.bodies("job.paused").len() == 1
    })
    .await;
    assert!(
        receiver.bodies("job.recovered").is_empty(),
        "nothing recovered yet"
    );

    collector.fail_attempts_below(0);
    let (status, answer) = host
        .send("POST", "/api/v1/jobs/flaky/resume", Value::Null)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["paused_reason"], Value::Null, "{answer}");
    let event = stream
        .wait_for("job.recovered streamed", Duration::from_secs(30), |e| {
            e["kind"] == "job.recovered"
        })
        .await;
    assert_eq!(event["data"]["job"], "flaky", "{event}");
    host.wait_for("job.recovered arrives", Duration::from_secs(30), || async {
        receiver.bodies("job.recovered").len() == 1
    })
    .await;
    // A few more successful ticks recover nothing more.
    let succeeded = |runs: &Vec<Value>| runs.iter().filter(|r| r["status"] == "succeeded").count();
    host.wait_for("three more successes", Duration::from_secs(30), || async {
        succeeded(&host.runs("flaky").await) >= 4
    })
    .await;
    let recovered = receiver.bodies("job.recovered");
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    let first_success = host
        .runs("flaky")
        .await
        .into_iter()
        .filter(|r| r["status"] == "succeeded")
        .map(|r| r["scheduled_at"].as_str().unwrap().to_owned())
        .min()
        .unwrap();
    assert_eq!(recovered[0]["scheduled_at"], first_success.as_str());
    assert_eq!(recovered[0]["status"], "succeeded");
    assert_eq!(receiver.bodies("job.paused").len(), 1);
}
