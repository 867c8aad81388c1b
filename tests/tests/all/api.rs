//! The HTTP API against the real binary: every route, its filters and pagination, and the
//! error cases (one JSON shape, the field named, the right status code).

use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::events::{subscribe, subscribe_as};
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::pg::PgServer;
use wasmcron_e2e::turns;

/// The bootstrap token of the token tests.
const ADMIN: &str = "s3cret-bootstrap-token-of-32-characters";

async fn sqlite_host(name: &str) -> (Host, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let host = Host::start(HostOptions::new(&db, name, &plugins_dir())).await;
    (host, dir)
}

fn assert_error(status: u16, body: &Value, want_status: u16, code: &str, field: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["error"]["field"].as_str(), field, "{body}");
}

#[tokio::test]
async fn jobs_are_created_read_listed_edited_paused_and_deleted() {
    let _turn = turns::beside_others().await;
    let (host, _dir) = sqlite_host("api-jobs").await;
    let (status, job) = host
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "nightly", "schedule": "0 3 * * *", "timezone": "Europe/Paris",
                   "plugin": "hello", "input": {"name": "api"}, "config": {"greeting": "Hi"},
                   "overlap": "queue", "misfire": "skip", "catchup_window": "30m", "jitter": "5s",
                   "timeout": "10s", "memory_limit": "32MiB", "allowed_hosts": ["example.com"]}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    for (field, want) in [
        ("name", json!("nightly")),
        ("timezone", json!("Europe/Paris")),
        ("overlap", json!("queue")),
        ("misfire", json!("skip")),
        ("catchup_window", json!("30m")),
        ("jitter", json!("5s")),
        ("timeout", json!("10s")),
        ("memory_limit", json!(32 << 20)),
        ("allowed_hosts", json!(["example.com"])),
        ("status", json!("active")),
        ("version", json!(1)),
        ("input", json!({"name": "api"})),
        ("config", json!({"greeting": "Hi"})),
        ("last_run", Value::Null),
    ] {
        assert_eq!(job[field], want, "{field} in {job}");
    }
    assert!(
        job["next_tick_at"].as_str().unwrap().ends_with(":00.000Z"),
        "{job}"
    );
    assert!(job.get("warning").is_none(), "hello is loaded: {job}");
    let id = job["id"].as_str().unwrap().to_string();

    // By id and by name.
    let (status, by_id) = host.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 200);
    let (_, by_name) = host.get("/api/v1/jobs/nightly").await;
    assert_eq!(by_id["id"], by_name["id"]);
    host.wait_for("an owner", Duration::from_secs(10), || async {
        host.get("/api/v1/jobs/nightly").await.1["owner"] == "api-jobs"
    })
    .await;

    // Unknown plugin: allowed, with a warning.
    let (status, ghost) = host
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "ghost", "schedule": "@hourly", "plugin": "not-here", "paused": true}),
        )
        .await;
    assert_eq!(status, 201, "{ghost}");
    assert!(
        ghost["warning"].as_str().unwrap().contains("not-here"),
        "{ghost}"
    );
    assert_eq!(ghost["status"], "paused");

    // Filters and pagination.
    let (_, page) = host.get("/api/v1/jobs?plugin=hello").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = host.get("/api/v1/jobs?status=paused").await;
    assert_eq!(page["items"][0]["name"], "ghost");
    let (_, first) = host.get("/api/v1/jobs?limit=1").await;
    assert_eq!(first["items"][0]["name"], "ghost");
    assert_eq!(first["next"], "ghost");
    let (_, second) = host.get("/api/v1/jobs?limit=1&after=ghost").await;
    assert_eq!(second["items"][0]["name"], "nightly");
    let (status, body) = host.get("/api/v1/jobs?limit=0").await;
    assert_error(status, &body, 400, "invalid_field", Some("limit"));
    let (status, body) = host.get("/api/v1/jobs?status=sleeping").await;
    assert_error(status, &body, 400, "invalid_field", Some("status"));

    // Partial update bumps the version and keeps the other fields.
    let (status, edited) = host
        .send(
            "PATCH",
            "/api/v1/jobs/nightly",
            json!({"schedule": "30 4 * * *"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["schedule"], "30 4 * * *");
    assert_eq!(edited["timezone"], "Europe/Paris");
    let (status, body) = host
        .send("PATCH", "/api/v1/jobs/nightly", json!({"name": "ghost"}))
        .await;
    assert_error(status, &body, 409, "duplicate_name", Some("name"));

    // Pause and resume.
    let (status, paused) = host
        .send("POST", "/api/v1/jobs/nightly/pause", Value::Null)
        .await;
    assert_eq!((status, paused["status"].as_str()), (200, Some("paused")));
    assert_eq!(paused["next_tick_at"], Value::Null);
    let (status, resumed) = host
        .send("POST", "/api/v1/jobs/nightly/resume", Value::Null)
        .await;
    assert_eq!((status, resumed["status"].as_str()), (200, Some("active")));

    // Delete.
    let (status, _) = host
        .send("DELETE", &format!("/api/v1/jobs/{id}"), Value::Null)
        .await;
    assert_eq!(status, 204);
    for path in [
        format!("/api/v1/jobs/{id}"),
        "/api/v1/jobs/nightly/runs".to_string(),
        "/api/v1/runs?job=nightly".to_string(),
    ] {
        let (status, body) = host.get(&path).await;
        assert_error(status, &body, 404, "not_found", None);
    }
    let (status, body) = host
        .send("DELETE", "/api/v1/jobs/nightly", Value::Null)
        .await;
    assert_error(status, &body, 404, "not_found", None);
    for path in ["/api/v1/jobs/nightly/pause", "/api/v1/jobs/nightly/trigger"] {
        let (status, body) = host.send("POST", path, Value::Null).await;
        assert_error(status, &body, 404, "not_found", None);
    }
}

#[tokio::test]
async fn bad_requests_name_the_field_and_use_one_error_shape() {
    let _turn = turns::beside_others().await;
    let (host, _dir) = sqlite_host("api-errors").await;
    let base = || json!({"name": "j", "schedule": "@every 1m", "plugin": "hello"});
    let with = |key: &str, value: Value| {
        let mut b = base();
        b[key] = value;
        b
    };
    for (body, field, needle) in [
        (with("schedule", json!("61 * * * *")), "schedule", "minute"),
        (with("schedule", json!("* * *")), "schedule", ""),
        (
            with("timezone", json!("Mars/Olympus")),
            "timezone",
            "Mars/Olympus",
        ),
        (with("name", json!("has space")), "name", ""),
        (with("overlap", json!("sometimes")), "overlap", "sometimes"),
        (with("misfire", json!("never")), "misfire", "never"),
        (with("timeout", json!("forever")), "timeout", ""),
        (with("memory_limit", json!("lots")), "memory_limit", ""),
        (
            with("allowed_hosts", json!(["http://x/y"])),
            "allowed_hosts",
            "",
        ),
        (
            json!({"schedule": "@hourly", "plugin": "hello"}),
            "name",
            "required",
        ),
    ] {
        let (status, err) = host.send("POST", "/api/v1/jobs", body.clone()).await;
        assert_error(status, &err, 400, "invalid_field", Some(field));
        assert!(
            err["error"]["message"].as_str().unwrap().contains(needle),
            "{err}"
        );
    }
    let (status, err) = host
        .send("POST", "/api/v1/jobs", with("colour", json!("red")))
        .await;
    assert_error(status, &err, 400, "unknown_field", Some("colour"));
    let (status, err) = host
        .send("PATCH", "/api/v1/jobs/j", json!({"id": "x"}))
        .await;
    assert!(status == 400 || status == 404, "{err}");

    let (status, err) = host
        .send_raw("POST", "/api/v1/jobs", b"{\"name\": ".to_vec())
        .await;
    assert_error(status, &err, 400, "invalid_json", None);
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 << 20));
    let (status, err) = host
        .send_raw("POST", "/api/v1/jobs", big.into_bytes())
        .await;
    assert_error(status, &err, 413, "body_too_large", None);

    let (status, _) = host.send("POST", "/api/v1/jobs", base()).await;
    assert_eq!(status, 201);
    let (status, err) = host.send("POST", "/api/v1/jobs", base()).await;
    assert_error(status, &err, 409, "duplicate_name", Some("name"));

    let (status, err) = host.get("/api/v1/nothing-here").await;
    assert_error(status, &err, 404, "not_found", None);
    let (status, err) = host.get("/api/v1/runs?status=great").await;
    assert_error(status, &err, 400, "invalid_field", Some("status"));
    let (status, err) = host.get("/api/v1/runs?from=yesterday").await;
    assert_error(status, &err, 400, "invalid_field", Some("from"));
    let (status, err) = host.get("/api/v1/runs?before=nope").await;
    assert_error(status, &err, 400, "invalid_field", Some("before"));
    let (status, err) = host
        .send("PUT", "/api/v1/settings/no.such.key", json!({"value": 1}))
        .await;
    assert_error(status, &err, 400, "invalid_field", Some("value"));
    let (status, err) = host
        .send(
            "PUT",
            "/api/v1/settings/runs.retention",
            json!({"value": "1d", "extra": 1}),
        )
        .await;
    assert_error(status, &err, 400, "unknown_field", Some("extra"));
}

#[tokio::test]
async fn trigger_runs_now_as_a_manual_tick_and_respects_overlap() {
    let _turn = turns::beside_others().await;
    let (host, _dir) = sqlite_host("api-trigger").await;
    let (status, _) = host
        .send("POST", "/api/v1/jobs", json!({"name": "manual", "schedule": "0 0 1 1 *", "plugin": "hello", "input": {"name": "now"}}))
        .await;
    assert_eq!(status, 201);
    host.wait_for("an owner", Duration::from_secs(10), || async {
        host.get("/api/v1/jobs/manual").await.1["owner"] == "api-trigger"
    })
    .await;
    let (status, trigger) = host
        .send("POST", "/api/v1/jobs/manual/trigger", Value::Null)
        .await;
    assert_eq!(status, 202, "{trigger}");
    assert_eq!(trigger["manual"], true);
    let at = trigger["scheduled_at"].as_str().unwrap().to_string();
    host.wait_for("the manual run", Duration::from_secs(10), || async {
        host.runs("manual")
            .await
            .iter()
            .any(|r| r["status"] == "succeeded")
    })
    .await;
    let runs = host.runs("manual").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["manual"], true);
    assert_eq!(run["scheduled_at"], at.as_str());
    assert_eq!(run["instance_id"], "api-trigger");
    assert!(
        run["plugin_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(run["result"].as_str().unwrap().contains("now"), "{run}");
    let (_, job) = host.get("/api/v1/jobs/manual").await;
    assert_eq!(job["last_run"]["id"], run["id"]);

    // Run filters.
    let (_, page) = host.get("/api/v1/runs?job=manual&status=succeeded").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = host.get("/api/v1/runs?status=failed").await;
    assert!(page["items"].as_array().unwrap().is_empty());
    let (_, page) = host
        .get(&format!("/api/v1/runs?from={}", at.replace(':', "%3A")))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let (_, page) = host
        .get(&format!("/api/v1/runs?to={}", at.replace(':', "%3A")))
        .await;
    assert!(page["items"].as_array().unwrap().is_empty(), "{page}");

    // Overlap: a long run in progress forbids a trigger (skip), allows it (allow).
    let (status, _) = host
        .send("POST", "/api/v1/jobs", json!({"name": "slow", "schedule": "0 0 1 1 *", "plugin": "misbehave", "input": {"do": "sleep", "ms": 4000}}))
        .await;
    assert_eq!(status, 201);
    host.wait_for("an owner", Duration::from_secs(10), || async {
        host.get("/api/v1/jobs/slow").await.1["owner"] == "api-trigger"
    })
    .await;
    let (status, _) = host
        .send("POST", "/api/v1/jobs/slow/trigger", Value::Null)
        .await;
    assert_eq!(status, 202);
    host.wait_for("the slow run to start", Duration::from_secs(10), || async {
        host.runs("slow")
            .await
            .iter()
            .any(|r| r["status"] == "running")
    })
    .await;
    let (status, err) = host
        .send("POST", "/api/v1/jobs/slow/trigger", Value::Null)
        .await;
    assert_error(status, &err, 409, "overlap", None);
    let (status, _) = host
        .send("PATCH", "/api/v1/jobs/slow", json!({"overlap": "allow"}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = host
        .send("POST", "/api/v1/jobs/slow/trigger", Value::Null)
        .await;
    assert_eq!(status, 202);
    host.wait_for("two slow runs", Duration::from_secs(20), || async {
        let runs = host.runs("slow").await;
        runs.len() == 2 && runs.iter().all(|r| r["status"] == "succeeded")
    })
    .await;
    let (_, first) = host.get("/api/v1/jobs/slow/runs?limit=1").await;
    let next = first["next"].as_str().unwrap().to_string();
    let (_, second) = host
        .get(&format!("/api/v1/jobs/slow/runs?limit=1&before={next}"))
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
}

#[tokio::test]
async fn plugins_instances_settings_metrics_and_openapi() {
    let _turn = turns::beside_others().await;
    let (host, _dir) = sqlite_host("api-system").await;
    let (status, plugins) = host.get("/api/v1/plugins").await;
    assert_eq!(status, 200);
    let hello = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hello")
        .expect("hello listed");
    assert!(hello["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(hello["size"].as_u64().unwrap() > 0);
    assert_eq!(hello["error"], Value::Null);

    host.wait_for("registered", Duration::from_secs(10), || async {
        host.get("/api/v1/instances")
            .await
            .1
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;
    let (_, instances) = host.get("/api/v1/instances").await;
    assert_eq!(instances[0]["id"], "api-system");
    assert_eq!(instances[0]["jobs"], 0);

    let (status, s) = host
        .send(
            "PUT",
            "/api/v1/settings/runs.retention",
            json!({"value": "2d"}),
        )
        .await;
    assert_eq!(
        (status, &s),
        (200, &json!({"key": "runs.retention", "value": "2d"}))
    );
    let (_, all) = host.get("/api/v1/settings").await;
    assert_eq!(all["runs.retention"], "2d");
    let (_, one) = host.get("/api/v1/settings/runs.retention").await;
    assert_eq!(one["value"], "2d");
    let (status, _) = host
        .send("DELETE", "/api/v1/settings/runs.retention", Value::Null)
        .await;
    assert_eq!(status, 204);
    let (status, err) = host.get("/api/v1/settings/runs.retention").await;
    assert_error(status, &err, 404, "not_found", None);

    let (status, text) = host.request(None, "GET", "/metrics", Value::Null).await;
    assert_eq!(status, 200);
    for name in [
        "wasmcron_ticks_fired_total",
        "wasmcron_runs_total",
        "wasmcron_run_duration_seconds_bucket",
        "wasmcron_fire_lateness_seconds_bucket",
        "wasmcron_ticks_not_run_total",
        "wasmcron_owned_jobs",
        "wasmcron_live_instances 1",
        "wasmcron_job_claims_total",
        "wasmcron_job_handoffs_total",
        "wasmcron_fencing_events_total",
        "wasmcron_plugin_load_errors_total",
        "wasmcron_settings_cache_age_seconds",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    // metrics.token protects /metrics.
    let (status, _) = host
        .send(
            "PUT",
            "/api/v1/settings/metrics.token",
            json!({"value": "scrape-me-please-0123"}),
        )
        .await;
    assert_eq!(status, 200);
    host.wait_for(
        "metrics to need the token",
        Duration::from_secs(40),
        || async { host.request(None, "GET", "/metrics", Value::Null).await.0 == 401 },
    )
    .await;
    let (status, _) = host
        .request(
            Some("scrape-me-please-0123"),
            "GET",
            "/metrics",
            Value::Null,
        )
        .await;
    assert_eq!(status, 200);

    let (status, doc) = host.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/jobs",
        "/jobs/{id}",
        "/jobs/{id}/trigger",
        "/runs",
        "/events",
        "/settings/{key}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} undocumented");
    }
    let (status, health) = host.get("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    host.wait_for("ready", Duration::from_secs(10), || async {
        host.status_of("/readyz").await == Some(200)
    })
    .await;
}

#[tokio::test]
async fn the_api_token_is_required_when_configured() {
    let _turn = turns::beside_others().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("db").display());
    let mut options = HostOptions::new(&db, "api-token", &plugins_dir());
    options
        .env
        .push(("WASMCRON_API_TOKEN".into(), ADMIN.into()));
    let host = Host::start(options).await;
    let (status, body) = host.request(None, "GET", "/api/v1/jobs", Value::Null).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_error(status, &body, 401, "missing_token", None);
    let (status, body) = host
        .request(Some("wrong"), "GET", "/api/v1/jobs", Value::Null)
        .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_error(status, &body, 401, "invalid_token", None);
    let (status, _) = host
        .request(Some(ADMIN), "GET", "/api/v1/jobs", Value::Null)
        .await;
    assert_eq!(status, 200);
    let (status, _) = host
        .request(None, "GET", "/api/v1/events?kind=nope", Value::Null)
        .await;
    assert_eq!(status, 401);
    let (status, _) = host.request(None, "GET", "/healthz", Value::Null).await;
    assert_eq!(status, 200);

    // Creating and revoking a named token is streamed, without the token's name or secret.
    let mut changes = subscribe_as(&host, "?kind=token.changed", None, Some(ADMIN)).await;
    let (status, made) = host
        .request(
            Some(ADMIN),
            "POST",
            "/api/v1/tokens",
            json!({"name": "robot", "role": "read"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = serde_json::from_str::<Value>(&made).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let created = changes
        .wait_for("token created", Duration::from_secs(10), |_| true)
        .await;
    assert_eq!(created["data"], json!({"change": "created"}));
    let (status, _) = host
        .request(Some(ADMIN), "DELETE", "/api/v1/tokens/robot", Value::Null)
        .await;
    assert_eq!(status, 204);
    let revoked = changes
        .wait_for("token revoked", Duration::from_secs(10), |_| true)
        .await;
    assert_eq!(revoked["data"], json!({"change": "revoked"}));
    let streamed = serde_json::to_string(&changes.seen).unwrap();
    assert!(!streamed.contains("robot") && !streamed.contains(&secret));
}

#[tokio::test]
async fn events_are_persisted_and_resume_after_last_event_id() {
    let _turn = turns::beside_others().await;
    let (host, _dir) = sqlite_host("api-events").await;
    let mut live = subscribe(&host, "?kind=job.changed", None).await;
    let (status, _) = host
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "evt", "schedule": "@hourly", "plugin": "hello"}),
        )
        .await;
    assert_eq!(status, 201);
    let created = live
        .wait_for("job created", Duration::from_secs(10), |e| {
            e["data"]["change"] == "created"
        })
        .await;
    assert_eq!(created["data"]["job"], "evt");
    let created_id = created["id"].as_i64().unwrap();
    host.send("POST", "/api/v1/jobs/evt/pause", Value::Null)
        .await;
    host.send("DELETE", "/api/v1/jobs/evt", Value::Null).await;
    live.wait_for("job deleted", Duration::from_secs(10), |e| {
        e["data"]["change"] == "deleted"
    })
    .await;

    // A new client resumes from the history: everything after `created`, in order.
    let mut resumed = subscribe(&host, "", Some(created_id)).await;
    let paused = resumed
        .wait_for("job paused", Duration::from_secs(10), |e| {
            e["kind"] == "job.changed"
        })
        .await;
    assert_eq!(paused["data"]["change"], "paused");
    assert!(paused["id"].as_i64().unwrap() > created_id);
    resumed
        .wait_for("job deleted", Duration::from_secs(10), |e| {
            e["data"]["change"] == "deleted"
        })
        .await;

    // The whole history from the start has the replica joining and its plugins loading.
    let mut all = subscribe(&host, "?after=0", None).await;
    all.wait_for("instance joined", Duration::from_secs(10), |e| {
        e["kind"] == "instance.joined" && e["data"]["instance_id"] == "api-events"
    })
    .await;
    let mut from_start = subscribe(&host, "?after=0&kind=plugin.loaded", None).await;
    from_start
        .wait_for("hello loaded", Duration::from_secs(10), |e| {
            e["data"]["plugin"] == "hello"
        })
        .await;

    // Setting and resetting a setting is streamed with its key (not its value); resetting a
    // key that is not set changes nothing and streams nothing.
    let mut settings = subscribe(&host, "?kind=setting.changed", None).await;
    let (status, _) = host
        .send(
            "PUT",
            "/api/v1/settings/config.greeting",
            json!({"value": "hello"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = host
        .send("DELETE", "/api/v1/settings/runs.retention", Value::Null)
        .await;
    assert_eq!(status, 204);
    let (status, _) = host
        .send("DELETE", "/api/v1/settings/config.greeting", Value::Null)
        .await;
    assert_eq!(status, 204);
    for change in ["set", "reset"] {
        let event = settings
            .wait_for(change, Duration::from_secs(10), |_| true)
            .await;
        assert_eq!(
            event["data"],
            json!({"key": "config.greeting", "change": change})
        );
    }

    let (status, err) = host.get("/api/v1/events?kind=run.exploded").await;
    assert_error(status, &err, 400, "invalid_field", Some("kind"));
}

/// A manual run is a run of its job like any other: under `skip` no scheduled tick runs
/// beside it (the tick due meanwhile is recorded skipped), whenever the trigger arrives.
#[tokio::test]
async fn no_scheduled_tick_runs_beside_a_manual_run_under_skip() {
    let _turn = turns::beside_others().await;
    let (host, _dir) = sqlite_host("api-manual-overlap").await;
    // Every 5 s, each run 3 s: 2 s idle between runs, into which the trigger is sent.
    let (status, _) = host
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "busy", "schedule": "*/5 * * * * *", "plugin": "misbehave",
                   "input": {"do": "sleep", "ms": 3000}, "overlap": "skip"}),
        )
        .await;
    assert_eq!(status, 201);
    host.wait_for(
        "the first scheduled run",
        Duration::from_secs(15),
        || async {
            host.runs("busy")
                .await
                .iter()
                .any(|r| r["status"] == "succeeded")
        },
    )
    .await;
    // Refused (409) while a run is in progress; sent again until the job is idle.
    host.wait_for("a trigger accepted", Duration::from_secs(15), || async {
        host.send("POST", "/api/v1/jobs/busy/trigger", Value::Null)
            .await
            .0
            == 202
    })
    .await;
    host.wait_for(
        "the manual run, and a tick skipped during it",
        Duration::from_secs(30),
        || async {
            let runs = host.runs("busy").await;
            let Some(m) = runs
                .iter()
                .find(|r| r["manual"] == true && r["status"] == "succeeded")
            else {
                return false;
            };
            let (from, to) = (m["started_at"].as_str(), m["finished_at"].as_str());
            runs.iter().any(|r| {
                r["status"] == "skipped"
                    && r["reason"] == "overlap"
                    && r["scheduled_at"].as_str() > from
                    && r["scheduled_at"].as_str() < to
            })
        },
    )
    .await;
    // No two runs that were executed overlap in time (RFC 3339 UTC instants compare as text).
    let runs = host.runs("busy").await;
    let mut executed: Vec<(String, String)> = runs
        .iter()
        .filter(|r| r["started_at"].is_string() && r["status"] != "skipped")
        .map(|r| {
            (
                r["started_at"].as_str().unwrap().to_string(),
                r["finished_at"].as_str().unwrap_or("9999").to_string(),
            )
        })
        .collect();
    executed.sort();
    assert!(executed.len() >= 2, "{runs:#?}");
    for pair in executed.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "runs overlap: {pair:?}; all runs {runs:#?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_database_answers_503() {
    let _turn = turns::beside_others().await;
    let server = PgServer::start().unwrap();
    let url = server.fresh_database().unwrap();
    let host = Host::start(HostOptions::new(&url, "api-outage", &plugins_dir())).await;
    let (status, _) = host.get("/api/v1/jobs").await;
    assert_eq!(status, 200);
    server.stop().unwrap();
    let (status, err) = host.get("/api/v1/jobs").await;
    assert_error(status, &err, 503, "database_unavailable", None);
    let (status, err) = host
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "x", "schedule": "@hourly", "plugin": "hello"}),
        )
        .await;
    assert_error(status, &err, 503, "database_unavailable", None);
    server.resume().unwrap();
    host.wait_for("the API back", Duration::from_secs(30), || async {
        host.get("/api/v1/jobs").await.0 == 200
    })
    .await;
}
