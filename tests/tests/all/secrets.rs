//! Secrets from files end to end (SQLite, one replica): a job maps a config key to a file of
//! `--secrets-dir`, laid out as Kubernetes mounts a Secret (`name -> ..data/name`, `..data ->
//! ..<version>`). The `reporter` plugin reads the key with `config-get` and sends the value
//! to the collector run by the test, and also logs it, prints it and returns it: the value
//! reaches the plugin, a `..data` swap is seen by the next run, and the value is found in no
//! API answer, no event, not in the database file and not in the replica's log, where
//! `[redacted]` stands in its place. A missing secret fails the run with an error naming it.
//! On PostgreSQL, two replicas share the mounted Secret: each reads the rotated value, the
//! survivor of a `kill -9` too, and no table, no API answer holds a value; there the job comes
//! from a jobs file both replicas watch.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::events::subscribe;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;

const FIRST: &str = "first-s3cret-7f3a9c";
const SECOND: &str = "second-s3cret-b81d44";

/// Mounts version `version` of the secret `db-password` with `value` the way the kubelet
/// updates a Secret volume: the new version's directory, then a `..data` symlink swapped
/// in by an atomic rename.
fn mount(dir: &Path, version: &str, value: &str) {
    let versioned = dir.join(version);
    std::fs::create_dir(&versioned).unwrap();
    std::fs::write(versioned.join("db-password"), format!("{value}\n")).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(version, &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    let link = dir.join("db-password");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("..data/db-password", &link).unwrap();
    }
}

/// Panics when `text` (what `what` is) holds either secret value.
fn assert_clean(what: &str, text: &str) {
    for value in [FIRST, SECOND] {
        assert!(!text.contains(value), "{what} holds a secret value: {text}");
    }
}

/// The `config` the plugin reported for the tick it ran `n`-th.
fn reported(collector: &Collector, n: usize) -> Option<Value> {
    collector
        .raw_reports()
        .get(n)
        .map(|report| report["config"].clone())
}

/// Trigger the job and wait until its `n`-th run (from 1) is finished; that run.
async fn trigger_and_finish(host: &Host, n: usize) -> Value {
    let (status, answer) = host
        .send("POST", "/api/v1/jobs/secretive/trigger", Value::Null)
        .await;
    assert_eq!(status, 202, "{answer}");
    let finished = |runs: &[Value]| runs.get(n - 1).is_some_and(|r| r["status"] != "running");
    host.wait_for("the run is finished", Duration::from_secs(30), || async {
        finished(&host.runs("secretive").await)
    })
    .await;
    host.runs("secretive").await[n - 1].clone()
}

#[tokio::test]
async fn sqlite_a_secret_reaches_the_plugin_is_rotated_and_is_never_shown() {
    let _turn = turns::beside_others().await;
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("wasmcron.db");
    let url = format!("sqlite://{}", db.display());
    let secrets = tempfile::tempdir().unwrap();
    mount(secrets.path(), "..2026_11_30_01", FIRST);
    let plugins = wasmcron_e2e::built::plugins_dir();
    let collector = Collector::start().await;
    let mut options = HostOptions::new(&url, "solo", &plugins);
    options.extra_args = vec![
        "--secrets-dir".into(),
        secrets.path().to_str().unwrap().into(),
    ];
    let mut host = Host::start(options).await;
    let mut events = subscribe(&host, "", None).await;

    // Validation: plain names only, a key is config or a secret, never both.
    let body = |secrets: Value, config: Value| {
        json!({"name": "refused", "schedule": "@every 1h", "plugin": "reporter",
               "secrets": secrets, "config": config})
    };
    for (secrets, config) in [
        (json!({"TOKEN": "../etc/passwd"}), json!({})),
        (json!({"TOKEN": "/etc/passwd"}), json!({})),
        (json!({"TOKEN": "..data"}), json!({})),
        (json!({"TOKEN": ""}), json!({})),
        (json!({"TOKEN": "a\\b"}), json!({})),
        (json!({"TOKEN": "token"}), json!({"TOKEN": "plain"})),
    ] {
        let (status, answer) = host
            .send("POST", "/api/v1/jobs", body(secrets.clone(), config))
            .await;
        assert_eq!(status, 400, "{secrets}: {answer}");
        assert_eq!(answer["error"]["field"], "secrets.TOKEN", "{answer}");
    }

    let job = json!({
        "name": "secretive", "schedule": "@every 1h", "plugin": "reporter",
        "input": {"collector": collector.url(), "report_config": ["DB_PASSWORD", "mode"]},
        "config": {"mode": "loud"},
        "secrets": {"DB_PASSWORD": "db-password"},
        "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
    });
    let (status, created) = host.send("POST", "/api/v1/jobs", job).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["secrets"], json!({"DB_PASSWORD": "db-password"}));
    host.wait_for("the job is held", Duration::from_secs(20), || async {
        let (_, job) = host.get("/api/v1/jobs/secretive").await;
        job["owner"].is_string()
    })
    .await;

    // The value reaches the plugin; what the run keeps of it is `[redacted]`.
    let run = trigger_and_finish(&host, 1).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        reported(&collector, 0),
        Some(json!({"DB_PASSWORD": FIRST, "mode": "loud"}))
    );
    let result = run["result"].as_str().unwrap();
    assert!(
        result.contains("DB_PASSWORD = Some(\"[redacted]\")"),
        "{result}"
    );
    assert!(result.contains("mode = Some(\"loud\")"), "{result}");
    let logs = run["logs"].as_str().unwrap();
    assert!(logs.contains("[redacted]"), "{logs}");
    assert_clean("the run", &run.to_string());

    // Rotated the kubelet's way: the next run reads the new value, without a restart.
    mount(secrets.path(), "..2026_11_30_02", SECOND);
    let run = trigger_and_finish(&host, 2).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        reported(&collector, 1),
        Some(json!({"DB_PASSWORD": SECOND, "mode": "loud"}))
    );
    assert_clean("the second run", &run.to_string());

    // A secret that is not there fails the run, naming it.
    let edit = json!({
        "secrets": {"DB_PASSWORD": "db-password", "API_TOKEN": "api-token"},
        "input": {"collector": collector.url(),
                  "report_config": ["DB_PASSWORD", "API_TOKEN"]},
    });
    let (status, edited) = host.send("PATCH", "/api/v1/jobs/secretive", edit).await;
    assert_eq!(status, 200, "{edited}");
    let (status, answer) = host
        .send(
            "PATCH",
            "/api/v1/jobs/secretive",
            json!({"config": {"API_TOKEN": "plain"}}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "secrets.API_TOKEN", "{answer}");
    let run = trigger_and_finish(&host, 3).await;
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("\"api-token\"") && error.contains("\"API_TOKEN\""),
        "{error}"
    );
    assert_eq!(collector.raw_reports().len(), 2, "the failed run reported");
    let run_id = run["id"].as_i64().unwrap();
    events
        .wait_for(
            "the failed run's run.finished",
            Duration::from_secs(20),
            |e| e["kind"] == "run.finished" && e["data"]["run_id"] == run_id,
        )
        .await;
    assert!(
        events
            .seen
            .iter()
            .any(|e| e["kind"] == "run.finished" && e["data"]["status"] == "succeeded"),
        "{:#?}",
        events.seen
    );

    // Nowhere to be found: API answers, events, the database file, the replica's log.
    for path in [
        "/api/v1/jobs/secretive",
        "/api/v1/jobs",
        "/api/v1/jobs/secretive/runs?limit=100",
        "/api/v1/runs?limit=100",
    ] {
        let (status, answer) = host.get(path).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_clean(path, &answer.to_string());
    }
    for event in &events.seen {
        assert_clean("an event", &event.to_string());
    }
    let log = host.log();
    assert!(
        log.contains("DB_PASSWORD = Some(\\\"[redacted]\\\")")
            || log.contains("DB_PASSWORD = Some(\"[redacted]\")"),
        "the plugin's log line is not in the replica's log, redacted"
    );
    assert_clean("the replica's log", &log);
    // Killed, not stopped: the event stream still open would hold a graceful stop up. The
    // database's every file is read, its write-ahead log included.
    host.kill9();
    drop(events);
    let mut names_found = false;
    for entry in std::fs::read_dir(db_dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let holds = |text: &str| bytes.windows(text.len()).any(|w| w == text.as_bytes());
        for value in [FIRST, SECOND] {
            assert!(!holds(value), "{} holds a secret value", path.display());
        }
        names_found |= holds("api-token");
    }
    // The bytes read are the database's: the secret names are stored there.
    assert!(names_found, "no secret name in the database files");
}

/// Two replicas on PostgreSQL sharing one mounted Secret: each run reads the current value
/// whichever replica runs it, a rotation is seen without a restart, also by the replica that
/// takes the job over when its owner is killed; no table of the database and neither
/// replica's log holds a value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_replicas_read_the_rotated_secret_and_store_none() {
    let _turn = turns::alone().await;
    let secrets = tempfile::tempdir().unwrap();
    mount(secrets.path(), "..2026_11_30_01", FIRST);
    let collector = Collector::start().await;
    let dir = secrets.path().to_str().unwrap();
    // The job comes from a jobs file both replicas watch, as the chart mounts them.
    let job = json!([{
        "name": "secretive", "schedule": "@every 1s", "plugin": "reporter",
        "input": {"collector": collector.url(), "report_config": ["DB_PASSWORD"]},
        "secrets": {"DB_PASSWORD": "db-password"},
        "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
    }]);
    let jobs_dir = tempfile::tempdir().unwrap();
    let jobs_file = jobs_dir.path().join("jobs.yaml");
    // JSON is YAML too.
    std::fs::write(&jobs_file, job.to_string()).unwrap();
    let jobs_file = jobs_file.display().to_string();
    let args = [
        "--heartbeat-interval",
        "1s",
        "--dead-after",
        "5s",
        "--secrets-dir",
        dir,
        "--jobs-file",
        &jobs_file,
    ];
    let mut c = Cluster::on(Engine::Postgres, &args).await;
    for id in ["r1", "r2"] {
        c.start(id).await;
    }
    let value_of = |report: &Value| report["config"]["DB_PASSWORD"].as_str().map(str::to_owned);
    c.wait_for(
        "a run read the first value",
        Duration::from_secs(30),
        || async {
            collector
                .raw_reports()
                .iter()
                .any(|r| value_of(r).as_deref() == Some(FIRST))
        },
    )
    .await;

    mount(secrets.path(), "..2026_11_30_02", SECOND);
    c.wait_for(
        "a run read the rotated value",
        Duration::from_secs(10),
        || async {
            collector
                .raw_reports()
                .iter()
                .any(|r| value_of(r).as_deref() == Some(SECOND))
        },
    )
    .await;
    let owner = collector
        .raw_reports()
        .iter()
        .rev()
        .find(|r| value_of(r).as_deref() == Some(SECOND))
        .map(|r| r["instance_id"].as_str().unwrap().to_owned())
        .unwrap();
    let survivor = if owner == "r1" { "r2" } else { "r1" };
    c.host_mut(&owner).kill9();
    c.wait_for(
        "the survivor ran the job with the rotated value",
        Duration::from_secs(30),
        || async {
            collector
                .raw_reports()
                .iter()
                .any(|r| r["instance_id"] == survivor && value_of(r).as_deref() == Some(SECOND))
        },
    )
    .await;
    let reports = collector.raw_reports();
    let values: Vec<Option<String>> = reports.iter().map(value_of).collect();
    assert!(
        values.iter().all(|v| v.is_some()),
        "a run read no value: {values:?}"
    );

    let wasmcron_e2e::cluster::Pool::Postgres(pool) = &c.pool else {
        panic!("not PostgreSQL");
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "runs"), "{tables:?}");
    let mut names_found = false;
    for table in &tables {
        // The table names come from the database's own catalogue.
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT row_to_json(t)::text FROM \"{table}\" t"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        for row in rows {
            assert_clean(&format!("a row of {table}"), &row);
            names_found |= row.contains("db-password");
        }
    }
    assert!(names_found, "the secret's name is stored");
    // Every answer of the API that shows the job, its runs, its file or its changes.
    let survivor = c.host(survivor);
    for path in [
        "/api/v1/jobs",
        "/api/v1/jobs/secretive",
        "/api/v1/jobs/secretive/runs?limit=1000",
        "/api/v1/runs?limit=1000",
        "/api/v1/jobs-file",
        "/api/v1/specs",
        "/api/v1/audit?limit=1000",
        "/api/v1/overview",
    ] {
        let (status, answer) = survivor.get(path).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_clean(path, &answer.to_string());
    }
    for host in &c.hosts {
        assert_clean("a replica's log", &host.log());
    }
}
