//! The audit log end to end on SQLite with one replica: every change to a job, a setting or a
//! token through the API is one entry naming its token (or `bootstrap`), its action and the
//! changed fields before and after (secret settings masked, no token secret or hash); a job
//! paused after failures is an entry of `system`; the filters and pages of `/api/v1/audit`
//! and `wasmcron audit` show them. Without tokens the actor is `anonymous`, and a job created
//! from the jobs file is `jobs-file`'s.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::{binary, plugins_dir};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;

const BOOTSTRAP: &str = "bootstrap-admin-secret-of-32-characters";

/// A secret setting's value: it must never show in the audit log.
const METRICS_TOKEN: &str = "metrics-scrape-secret-0123456789";

/// Every entry matching `query` (`?…` or empty), newest first, through pages of `limit`.
async fn entries(host: &Host, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let sep = if query.is_empty() { "?" } else { "&" };
    let mut path = format!("/api/v1/audit{query}{sep}limit={limit}");
    loop {
        let (status, page) = host.send_as(Some(token), "GET", &path, Value::Null).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{page}");
        all.extend(items.iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/audit{query}{sep}limit={limit}&before={next}"),
            None => return all,
        }
    }
}

/// `(actor, action, target)` of each entry.
fn summary(entries: &[Value]) -> Vec<(String, String, String)> {
    entries
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("actor"), s("action"), s("target"))
        })
        .collect()
}

fn triples(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

/// Creates token `name` with `role` as the bootstrap admin; returns its secret.
async fn token(host: &Host, name: &str, role: &str) -> String {
    let (status, made) = host
        .send_as(
            Some(BOOTSTRAP),
            "POST",
            "/api/v1/tokens",
            json!({"name": name, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    made["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sqlite_every_change_is_audited_with_its_actor_and_fields() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let collector = Collector::start().await;
    collector.fail_attempts_below(i64::MAX);
    let mut options = HostOptions::new(&url, "solo", &plugins_dir());
    options
        .env
        .push(("WASMCRON_API_TOKEN".into(), BOOTSTRAP.into()));
    let host = Host::start(options).await;

    let ops = token(&host, "ops", "admin").await;
    let auditor = token(&host, "auditor", "read").await;
    let viewer = token(&host, "viewer", "read").await;
    let send = |method: &'static str, path: String, body: Value| {
        let (host, ops) = (&host, ops.as_str());
        async move {
            let (status, answer) = host.send_as(Some(ops), method, &path, body).await;
            assert!(
                (200..300).contains(&status),
                "{method} {path}: {status} {answer}"
            );
            answer
        }
    };

    // A job's life, as the token `ops`.
    let job = send(
        "POST",
        "/api/v1/jobs".into(),
        json!({"name": "audited", "schedule": "@every 1h", "plugin": "hello"}),
    )
    .await;
    let id = job["id"].as_str().unwrap().to_owned();
    send(
        "PATCH",
        "/api/v1/jobs/audited".into(),
        json!({"schedule": "@every 2h"}),
    )
    .await;
    send("POST", "/api/v1/jobs/audited/pause".into(), Value::Null).await;
    send("POST", "/api/v1/jobs/audited/resume".into(), Value::Null).await;
    let tick = send("POST", "/api/v1/jobs/audited/trigger".into(), Value::Null).await;
    send("DELETE", "/api/v1/jobs/audited".into(), Value::Null).await;

    // Settings, one of them a secret.
    send(
        "PUT",
        "/api/v1/settings/runs.retention".into(),
        json!({"value": "2d"}),
    )
    .await;
    send(
        "PUT",
        "/api/v1/settings/metrics.token".into(),
        json!({"value": METRICS_TOKEN}),
    )
    .await;
    send(
        "DELETE",
        "/api/v1/settings/metrics.token".into(),
        Value::Null,
    )
    .await;
    send(
        "DELETE",
        "/api/v1/settings/runs.retention".into(),
        Value::Null,
    )
    .await;

    // A token revoked by the bootstrap admin.
    let (status, answer) = host
        .send_as(
            Some(BOOTSTRAP),
            "DELETE",
            "/api/v1/tokens/viewer",
            Value::Null,
        )
        .await;
    assert_eq!(status, 204, "{answer}");

    // A job that fails every tick pauses itself: the host's own change.
    let fragile = send(
        "POST",
        "/api/v1/jobs".into(),
        json!({
            "name": "fragile", "schedule": "@every 1s", "plugin": "reporter",
            "input": {"collector": collector.url()},
            "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
            "pause_after_failures": 2,
        }),
    )
    .await;
    host.wait_for(
        "fragile's pause is audited",
        Duration::from_secs(30),
        || async {
            let system = entries(&host, &auditor, "?actor=system", 100).await;
            !system.is_empty()
        },
    )
    .await;

    // Everything, read with a read token, newest first; the same through pages of three.
    let all = entries(&host, &auditor, "", 100).await;
    assert_eq!(
        summary(&all),
        triples(&[
            ("system", "job.paused", "fragile"),
            ("ops", "job.created", "fragile"),
            ("bootstrap", "token.revoked", "viewer"),
            ("ops", "setting.reset", "runs.retention"),
            ("ops", "setting.reset", "metrics.token"),
            ("ops", "setting.set", "metrics.token"),
            ("ops", "setting.set", "runs.retention"),
            ("ops", "job.deleted", "audited"),
            ("ops", "job.triggered", "audited"),
            ("ops", "job.resumed", "audited"),
            ("ops", "job.paused", "audited"),
            ("ops", "job.updated", "audited"),
            ("ops", "job.created", "audited"),
            ("bootstrap", "token.created", "viewer"),
            ("bootstrap", "token.created", "auditor"),
            ("bootstrap", "token.created", "ops"),
        ]),
        "{all:#?}"
    );
    assert_eq!(entries(&host, &auditor, "", 3).await, all, "pages of three");
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let at = |e: &Value| e["at"].as_str().unwrap().to_owned();
    assert!(all.windows(2).all(|w| at(&w[0]) >= at(&w[1])), "{all:#?}");

    // Before and after of each change.
    let by = |action: &str, target: &str| {
        all.iter()
            .find(|e| e["action"] == action && e["target"] == target)
            .unwrap_or_else(|| panic!("{action} {target}"))
            .clone()
    };
    let created = by("job.created", "audited");
    assert_eq!(created["job"], json!({"id": id, "name": "audited"}));
    assert_eq!(created["before"], Value::Null);
    assert_eq!(created["after"]["schedule"], "@every 1h", "{created}");
    assert_eq!(created["after"]["plugin"], "hello", "{created}");
    assert!(created["after"].get("version").is_none(), "{created}");
    let updated = by("job.updated", "audited");
    assert_eq!(updated["before"], json!({"schedule": "@every 1h"}));
    assert_eq!(updated["after"], json!({"schedule": "@every 2h"}));
    let paused = by("job.paused", "audited");
    assert_eq!(paused["before"], json!({"paused": false}));
    assert_eq!(paused["after"], json!({"paused": true}));
    let resumed = by("job.resumed", "audited");
    assert_eq!(resumed["before"], json!({"paused": true}));
    assert_eq!(resumed["after"], json!({"paused": false}));
    let triggered = by("job.triggered", "audited");
    assert_eq!(triggered["before"], Value::Null);
    let scheduled = triggered["after"]["scheduled_at_ms"].as_i64().unwrap();
    let answered = chrono::DateTime::parse_from_rfc3339(tick["scheduled_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert_eq!(scheduled, answered, "{triggered} {tick}");
    let deleted = by("job.deleted", "audited");
    assert_eq!(deleted["before"]["schedule"], "@every 2h", "{deleted}");
    assert_eq!(deleted["after"], Value::Null);
    let set = by("setting.set", "runs.retention");
    assert_eq!(
        (set["before"].clone(), set["after"].clone()),
        (Value::Null, json!({"value": "2d"}))
    );
    assert_eq!(set["job"], Value::Null);
    let secret = by("setting.set", "metrics.token");
    assert_eq!(secret["after"], json!({"value": "********"}));
    let reset = by("setting.reset", "metrics.token");
    assert_eq!(reset["before"], json!({"value": "********"}));
    assert_eq!(reset["after"], Value::Null);
    let reset = by("setting.reset", "runs.retention");
    assert_eq!(reset["before"], json!({"value": "2d"}));
    let made = by("token.created", "ops");
    assert_eq!(
        (made["before"].clone(), made["after"].clone()),
        (Value::Null, json!({"role": "admin"}))
    );
    let revoked = by("token.revoked", "viewer");
    assert_eq!(revoked["before"], json!({"role": "read"}));
    assert_eq!(revoked["after"], Value::Null);
    let system = by("job.paused", "fragile");
    assert_eq!(system["job"]["id"], fragile["id"]);
    assert_eq!(
        system["before"],
        json!({"paused": false, "paused_reason": null})
    );
    assert_eq!(
        system["after"],
        json!({"paused": true, "paused_reason": "failures"})
    );
    let text = serde_json::to_string(&all).unwrap();
    for secret in [METRICS_TOKEN, &ops, &auditor, &viewer] {
        assert!(!text.contains(secret), "a secret in the audit log: {text}");
    }
    assert!(!text.contains("sha256"), "{text}");

    // Filters: a deleted job by its name and by its id, an actor, both.
    let audited = entries(&host, &auditor, "?job=audited", 2).await;
    assert_eq!(
        audited,
        entries(&host, &auditor, &format!("?job={id}"), 100).await
    );
    assert_eq!(
        audited
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "job.deleted",
            "job.triggered",
            "job.resumed",
            "job.paused",
            "job.updated",
            "job.created"
        ]
    );
    let bootstrap = entries(&host, &auditor, "?actor=bootstrap", 100).await;
    assert_eq!(
        summary(&bootstrap),
        triples(&[
            ("bootstrap", "token.revoked", "viewer"),
            ("bootstrap", "token.created", "viewer"),
            ("bootstrap", "token.created", "auditor"),
            ("bootstrap", "token.created", "ops"),
        ])
    );
    let both = entries(&host, &auditor, "?job=fragile&actor=system", 100).await;
    assert_eq!(both.len(), 1, "{both:#?}");
    let (status, _) = host
        .send_as(Some(&auditor), "GET", "/api/v1/audit?limit=0", Value::Null)
        .await;
    assert_eq!(status, 400);
    let (status, _) = host
        .send_as(Some(&auditor), "GET", "/api/v1/audit?before=x", Value::Null)
        .await;
    assert_eq!(status, 400);

    // The CLI prints them.
    let cli = |args: &[&str]| {
        let out = Command::new(binary())
            .arg("audit")
            .args(args)
            .env("WASMCRON_SERVER", &host.base)
            .env("WASMCRON_TOKEN", &auditor)
            .output()
            .expect("run wasmcron");
        assert!(
            out.status.success(),
            "wasmcron audit {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = cli(&["--job", "audited", "--actor", "ops", "--limit", "2"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two entries: {table}");
    assert!(
        lines[0].contains("ACTOR") && lines[0].contains("AFTER"),
        "{table}"
    );
    assert!(
        lines[1].contains("job.deleted") && lines[1].contains("ops"),
        "{table}"
    );
    assert!(lines[2].contains("job.triggered"), "{table}");
    let listed: Value =
        serde_json::from_str(&cli(&["--actor", "system", "--output", "json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["action"], "job.paused");
    assert_eq!(listed[0]["target"], "fragile");
}

/// Without tokens every change is `anonymous`'s; the jobs file's jobs are `jobs-file`'s.
#[tokio::test]
async fn sqlite_without_tokens_changes_are_anonymous_and_the_jobs_file_is_named() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    let jobs = dir.path().join("jobs.json");
    std::fs::write(
        &jobs,
        json!([{"name": "from-file", "schedule": "@every 1h", "plugin": "hello"}]).to_string(),
    )
    .unwrap();
    let mut options = HostOptions::new(&url, "solo", &plugins_dir());
    options.extra_args = vec!["--jobs-file".into(), jobs.display().to_string()];
    let host = Host::start(options).await;
    host.wait_for("the file's job", Duration::from_secs(15), || async {
        host.get("/api/v1/jobs/from-file").await.0 == 200
    })
    .await;
    let (status, answer) = host
        .send("POST", "/api/v1/jobs/from-file/pause", Value::Null)
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, page) = host.get("/api/v1/audit").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        summary(page["items"].as_array().unwrap()),
        triples(&[
            ("anonymous", "job.paused", "from-file"),
            ("jobs-file", "job.created", "from-file"),
        ])
    );
}
