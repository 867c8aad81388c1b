//! One replica doing the whole job end to end — create job → ticks fire → plugin runs → run
//! recorded → state persists across runs and restarts — on SQLite and on a real PostgreSQL
//! server; restarts and a database outage never run a tick twice, and missed ticks follow the
//! misfire policy.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::{plugin, plugins_dir, with_marker};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::pg::{self, PgServer};
use wasmcron_e2e::turns;

/// The databases every test body runs against.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().unwrap())
    }
    fn postgres() -> Db {
        Db::Postgres(pg::shared().fresh_database().unwrap())
    }
    fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite://{}", dir.path().join("wasmcron.db").display()),
            Db::Postgres(url) => url.clone(),
        }
    }
}

async fn create(host: &Host, body: Value) -> Value {
    let (status, job) = host.send("POST", "/api/v1/jobs", body).await;
    assert_eq!(status, 201, "{job}");
    job
}

fn count(runs: &[Value], status: &str) -> usize {
    runs.iter().filter(|r| r["status"] == status).count()
}

/// Every tick from the first to the last of an every-second job's runs is there, in order.
fn assert_every_second(runs: &[Value]) {
    let ticks: Vec<i64> = runs
        .iter()
        .map(|r| chrono_ms(r["scheduled_at"].as_str().unwrap()))
        .collect();
    for pair in ticks.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            1000,
            "a tick is missing, or out of order: {ticks:?}"
        );
    }
}

/// Every tick has exactly one record.
fn assert_unique_ticks(runs: &[Value]) {
    let mut seen = HashSet::new();
    for r in runs {
        assert!(
            seen.insert(r["scheduled_at"].as_str().unwrap().to_string()),
            "tick recorded twice: {r}"
        );
    }
}

async fn state_persists_across_runs_and_restarts(db: Db) {
    let plugins = plugins_dir();
    let options = HostOptions::new(&db.url(), "solo", &plugins);
    let mut host = Host::start(options.clone()).await;
    create(
        &host,
        json!({"name": "greet", "schedule": "* * * * * *", "plugin": "hello",
               "input": {"name": "e2e"}, "config": {"greeting": "Hi"}}),
    )
    .await;
    host.wait_for("3 succeeded runs", Duration::from_secs(20), || async {
        count(&host.runs("greet").await, "succeeded") >= 3
    })
    .await;
    // An open event stream (a dashboard left open) does not hold the stop.
    let _stream = wasmcron_e2e::events::subscribe(&host, "", None).await;
    let status = host.stop(Duration::from_secs(20));
    assert!(status.success(), "graceful stop exits 0: {status:?}");

    let host = Host::start(options).await;
    host.wait_for(
        "2 more succeeded runs after the restart",
        Duration::from_secs(20),
        || async { count(&host.runs("greet").await, "succeeded") >= 5 },
    )
    .await;
    let runs = host.runs("greet").await;
    assert_unique_ticks(&runs);
    // The plugin counts its runs in durable state: the counter went on across the restart, one
    // step per run, so no run was lost or doubled from the plugin's point of view.
    let results: Vec<String> = runs
        .iter()
        .filter(|r| r["status"] == "succeeded")
        .map(|r| r["result"].as_str().unwrap().to_string())
        .collect();
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result, &format!("Hi, e2e! (run #{})", i + 1), "{results:?}");
    }
    let first = &runs[0];
    assert!(
        first["plugin_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(first["instance_id"], "solo");
    assert!(
        first["logs"].as_str().unwrap().contains("[info]"),
        "{first}"
    );
}

#[tokio::test]
async fn sqlite_state_persists_across_runs_and_restarts() {
    let _turn = turns::beside_others().await;
    state_persists_across_runs_and_restarts(Db::sqlite()).await;
}

#[tokio::test]
async fn postgres_state_persists_across_runs_and_restarts() {
    let _turn = turns::beside_others().await;
    state_persists_across_runs_and_restarts(Db::postgres()).await;
}

/// kill -9 mid-schedule, down for a while, restart: no tick ran twice (counted at the side
/// effect), every tick is accounted for, and the ticks of the gap follow run_once.
async fn crash_and_restart_follow_the_misfire_policy(db: Db) {
    let collector = Collector::start().await;
    let plugins = plugins_dir();
    let options = HostOptions::new(&db.url(), "crashy", &plugins);
    let mut host = Host::start(options.clone()).await;
    let job = create(
        &host,
        json!({"name": "report", "schedule": "@every 1s", "plugin": "reporter",
               "input": {"collector": collector.url()}, "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
               "misfire": "run_once"}),
    )
    .await;
    host.wait_for("2 runs", Duration::from_secs(20), || async {
        count(&host.runs("report").await, "succeeded") >= 2
    })
    .await;
    host.kill9();
    tokio::time::sleep(Duration::from_secs(9)).await;
    let host = Host::start(options).await;
    // Judge a snapshot taken between two runs: a tick in flight at the moment of reading is
    // `running` legitimately; the one the crash left must not be (it is recorded abandoned).
    let snapshot = std::sync::Mutex::new(Vec::new());
    host.wait_for(
        "runs after the restart, none of them running",
        Duration::from_secs(20),
        || async {
            let runs = host.runs("report").await;
            let done = runs.iter().any(|r| r["catch_up"] == true)
                && count(&runs, "succeeded") >= 6
                && count(&runs, "running") == 0;
            *snapshot.lock().unwrap() = runs;
            done
        },
    )
    .await;
    let runs = snapshot.into_inner().unwrap();
    assert_unique_ticks(&runs);
    collector.assert_no_duplicates();
    // Every tick from the first to the last recorded one is there, once (none silently absent).
    assert_every_second(&runs);
    // run_once: ticks more than 5 s late were missed except the latest of them, which ran as
    // a catch-up; the run left `running` by the crash (if any) is recorded failed (abandoned).
    let by_status: BTreeMap<String, usize> = runs.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["status"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert!(
        by_status.get("missed").copied().unwrap_or(0) >= 1,
        "{by_status:?}"
    );
    assert_eq!(
        runs.iter().filter(|r| r["catch_up"] == true).count(),
        1,
        "{by_status:?}"
    );
    assert!(
        runs.iter()
            .filter(|r| r["status"] == "missed")
            .all(|r| r["reason"] == "misfire")
    );
    assert_eq!(count(&runs, "running"), 0, "{by_status:?}");
    let executed: HashSet<i64> = collector
        .reports()
        .iter()
        .filter(|e| e.job_id == job["id"].as_str().unwrap())
        .map(|e| e.scheduled_at)
        .collect();
    for r in runs.iter().filter(|r| r["status"] == "succeeded") {
        assert!(
            executed.contains(&chrono_ms(r["scheduled_at"].as_str().unwrap())),
            "succeeded run not executed: {r}"
        );
    }
}

fn chrono_ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

#[tokio::test]
async fn sqlite_crash_and_restart_follow_the_misfire_policy() {
    let _turn = turns::beside_others().await;
    crash_and_restart_follow_the_misfire_policy(Db::sqlite()).await;
}

#[tokio::test]
async fn postgres_crash_and_restart_follow_the_misfire_policy() {
    let _turn = turns::beside_others().await;
    crash_and_restart_follow_the_misfire_policy(Db::postgres()).await;
}

/// Stop PostgreSQL for 10 s: the replica keeps running, reports not-ready, and recovers by
/// itself when the server is back; nothing runs twice.
#[tokio::test]
async fn postgres_outage_is_survived_without_duplicates() {
    let _turn = turns::beside_others().await;
    let server = PgServer::start().unwrap();
    let url = server.fresh_database().unwrap();
    let collector = Collector::start().await;
    let plugins = plugins_dir();
    let host = Host::start(HostOptions::new(&url, "outage", &plugins)).await;
    create(
        &host,
        json!({"name": "report", "schedule": "@every 1s", "plugin": "reporter",
               "input": {"collector": collector.url()}, "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
               "misfire": "run_all", "catchup_window": "1m"}),
    )
    .await;
    host.wait_for(
        "runs before the outage",
        Duration::from_secs(20),
        || async { count(&host.runs("report").await, "succeeded") >= 2 },
    )
    .await;
    server.stop().unwrap();
    host.wait_for(
        "not ready during the outage",
        Duration::from_secs(15),
        || async { host.status_of("/readyz").await == Some(503) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    server.resume().unwrap();
    host.wait_for("ready again", Duration::from_secs(20), || async {
        host.status_of("/readyz").await == Some(200)
    })
    .await;
    let reports_at_recovery = collector.reports().len();
    host.wait_for("runs after the outage", Duration::from_secs(30), || async {
        collector.reports().len() >= reports_at_recovery + 3
    })
    .await;
    let runs = host.runs("report").await;
    assert_unique_ticks(&runs);
    collector.assert_no_duplicates();
    // run_all within the window: the ticks of the outage ran late (catch-up), none missed.
    assert_eq!(count(&runs, "missed"), 0);
    assert!(
        runs.iter().any(|r| r["catch_up"] == true),
        "outage ticks were caught up"
    );
    assert_every_second(&runs);
}

/// Replace a plugin file while its job fires every second: the next ticks run the new digest
/// and no tick fails because of the swap.
#[tokio::test]
async fn hot_reload_swaps_the_plugin_under_a_running_job_without_failures() {
    let _turn = turns::beside_others().await;
    let db = Db::sqlite();
    let plugins = tempfile::tempdir().unwrap();
    let original = plugin("hello");
    std::fs::write(plugins.path().join("hello.wasm"), &original).unwrap();
    let host = Host::start(HostOptions::new(&db.url(), "reload", plugins.path())).await;
    create(
        &host,
        json!({"name": "greet", "schedule": "* * * * * *", "plugin": "hello"}),
    )
    .await;
    host.wait_for(
        "2 runs on the first version",
        Duration::from_secs(20),
        || async { count(&host.runs("greet").await, "succeeded") >= 2 },
    )
    .await;
    let first_digest = host.runs("greet").await[0]["plugin_digest"]
        .as_str()
        .unwrap()
        .to_string();

    let swapped = with_marker(&original, "v2");
    let tmp = plugins.path().join(".hello.wasm.tmp");
    std::fs::write(&tmp, &swapped).unwrap();
    std::fs::rename(&tmp, plugins.path().join("hello.wasm")).unwrap();
    host.wait_for(
        "3 runs on the new version",
        Duration::from_secs(20),
        || async {
            let runs = host.runs("greet").await;
            runs.iter()
                .filter(|r| {
                    r["status"] == "succeeded" && r["plugin_digest"] != first_digest.as_str()
                })
                .count()
                >= 3
        },
    )
    .await;
    let runs = host.runs("greet").await;
    assert_eq!(
        count(&runs, "failed"),
        0,
        "a tick failed because of the swap: {runs:?}"
    );
    assert_unique_ticks(&runs);
    // Once the new version ran, the old one never ran again.
    let first_new = runs
        .iter()
        .position(|r| r["plugin_digest"] != first_digest.as_str())
        .unwrap();
    assert!(
        runs[first_new..]
            .iter()
            .all(|r| r["plugin_digest"] != first_digest.as_str())
    );
    let (_, listed) = host.get("/api/v1/plugins").await;
    assert_eq!(listed[0]["digest"], runs.last().unwrap()["plugin_digest"]);
}
