//! The router over a real SQLite store, served on a loopback port and asked with a real HTTP
//! client; and the document it serves.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::*;
use crate::clock::DbClock;
use crate::events::{EventHub, Publisher};
use crate::jobs::{ChangeSignal, Jobs};
use crate::runtime::{EngineOptions, Runtime};
use crate::settings::{Settings, SettingsCache};
use crate::store::Store;

struct TestApi {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub(super) async fn state(dir: &std::path::Path) -> ApiState {
    let store = Store::connect(&format!("sqlite://{}", dir.join("db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let options = EngineOptions {
        pooling: false,
        max_instances: 4,
    };
    let runtime = Runtime::new(&options, dir.join("plugins"), None).unwrap();
    // Events are queued and never written: these tests do not read the event history.
    let (events, _writer) = Publisher::new(store.clone());
    ApiState {
        info: Arc::new(ReplicaInfo {
            instance_id: "api-test".into(),
            api_token: None,
            dead_after: Duration::from_secs(10),
        }),
        jobs: Jobs::new(
            store.clone(),
            "api-test",
            ChangeSignal::default(),
            events.clone(),
        ),
        settings: SettingsCache::new(Settings::default(), Duration::from_secs(1)),
        plugins: runtime.plugins.clone(),
        health: Arc::default(),
        clock: DbClock::new(0),
        hub: EventHub::new(store.clone()),
        events,
        jobs_file: Default::default(),
        token_uses: Arc::default(),
        limits: Arc::default(),
        store,
    }
}

async fn serve() -> TestApi {
    let dir = tempfile::tempdir().unwrap();
    let app = router(state(dir.path()).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    TestApi {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl TestApi {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

/// The paths the router serves (its own account of them), but the dashboard's.
async fn served_paths() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let debug = format!("{:?}", router(state(dir.path()).await));
    let routes = debug
        .split("fallback_router")
        .next()
        .expect("the router lists its routes before its fallbacks");
    routes
        .split('"')
        .filter(|piece| piece.starts_with('/'))
        .filter(|path| *path != "/" && !path.starts_with("/assets/"))
        .map(str::to_string)
        .collect()
}

/// Every documented operation: (path as served, method).
fn documented(doc: &Value) -> Vec<(String, Method)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let at_root = item["servers"][0]["url"] == "/";
        let served = if at_root {
            path.clone()
        } else {
            format!("/api/v1{path}")
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((served.clone(), method.to_uppercase().parse().unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let operations = documented(&doc);
    let paths: BTreeSet<String> = operations.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(served_paths().await, paths);
    assert!(paths.contains("/api/v1/jobs/{id}") && paths.contains("/readyz"));

    let api = serve().await;
    for path in &paths {
        let url = format!("{}{}", api.base, path.replace(['{', '}'], ""));
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let answer = api
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            if !operations.contains(&(path.clone(), method.clone())) {
                assert_eq!(status, 405, "{method} {path} is served but not documented");
                continue;
            }
            assert_ne!(status, 405, "{method} {path} is documented but not served");
            if path.ends_with("/events") {
                continue; // an endless stream
            }
            let body = answer.text().await.unwrap();
            assert!(
                !body.contains("no such API route"),
                "{method} {path} is documented but not served: {body}"
            );
        }
    }
}

/// Every `$ref` of `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_and_holds_together() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a schema reference"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "servers" {
                continue;
            }
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operation id {id} twice");
            // Every path parameter is declared.
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let in_path: BTreeSet<&str> = path
                .split('{')
                .skip(1)
                .map(|rest| rest.split('}').next().unwrap())
                .collect();
            assert_eq!(declared, in_path, "{method} {path}");
            // A success, and every failure in the error shape (readiness says why itself).
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{id}");
            for (status, answer) in responses {
                if status.starts_with('2') || id == "readyz" {
                    continue;
                }
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{id} {status}"
                );
            }
            if path.starts_with("/healthz") || path.starts_with("/readyz") {
                continue;
            }
            if id != "metrics" {
                assert!(responses.contains_key("401"), "{id} lacks 401");
            }
            let read_only = method == "get" && !path.starts_with("/tokens");
            assert_eq!(
                responses.contains_key("403"),
                !read_only && id != "metrics",
                "{id}: 403"
            );
        }
    }
}

#[test]
fn enums_of_the_document_come_from_the_rust_types() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Value { schemas[name]["enum"].clone() };
    assert_eq!(values("OverlapPolicy"), json!(["skip", "allow", "queue"]));
    assert_eq!(
        values("MisfirePolicy"),
        json!(["skip", "run_once", "run_all"])
    );
    let statuses: Vec<&str> = crate::store::RunStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(values("RunStatus"), json!(statuses));
    let reasons: Vec<&str> = crate::store::RunReason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    assert_eq!(values("RunReason"), json!(reasons));
    assert_eq!(values("JobStatus"), json!(["active", "paused"]));
    assert_eq!(values("Role"), json!(["admin", "read"]));
    assert_eq!(values("EventKind"), json!(crate::events::Event::KINDS));
    // Where they are used.
    let job = &schemas["Job"]["properties"];
    assert_eq!(job["overlap"]["$ref"], "#/components/schemas/OverlapPolicy");
    assert_eq!(job["status"]["$ref"], "#/components/schemas/JobStatus");
    let run = &schemas["Run"]["properties"];
    assert_eq!(run["status"]["$ref"], "#/components/schemas/RunStatus");
    let patch = &schemas["JobPatch"]["properties"];
    assert_eq!(
        patch["misfire"]["oneOf"][0]["$ref"],
        "#/components/schemas/MisfirePolicy"
    );
}

#[tokio::test]
async fn answers_keep_their_shapes() {
    let api = serve().await;
    let (status, doc) = api.get("/api/v1/openapi.json").await;
    assert_eq!((status, &doc["openapi"]), (200, &json!("3.1.0")));
    assert_eq!(api.get("/healthz").await, (200, json!({"status": "ok"})));
    // Nothing marked this replica ready.
    assert_eq!(
        api.get("/readyz").await,
        (
            503,
            json!({"status": "not_ready", "reason": "database unreachable"})
        )
    );
    assert_eq!(
        api.get("/api/v1/whoami").await,
        (
            200,
            json!({"auth_required": false, "name": null, "role": "admin"})
        )
    );
    assert_eq!(api.get("/api/v1/plugins").await, (200, json!([])));
    assert_eq!(api.get("/api/v1/settings").await, (200, json!({})));
    let (status, effective) = api.get("/api/v1/settings/effective").await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = effective
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["age_ms", "instance", "settings", "tokens", "ttl_ms"]);
    assert_eq!(effective["instance"], "api-test");
    assert_eq!(
        api.get("/api/v1/tokens").await,
        (200, json!({"tokens": []}))
    );
}

#[tokio::test]
async fn a_malformed_query_or_path_is_refused_in_the_error_shape() {
    let api = serve().await;
    let (status, body) = api.get("/api/v1/jobs?limit=ten").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_field");
    assert_eq!(body["error"]["field"], "limit");
    let (status, body) = api.get("/api/v1/runs?colour=red").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "unknown_field");
    assert_eq!(body["error"]["field"], "colour");
    let (status, body) = api.get("/api/v1/jobs/%FF").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_path");
}

#[tokio::test]
async fn a_list_with_invalid_entries_names_each_and_applies_nothing() {
    let api = serve().await;
    let post = |body: Value| {
        api.client
            .post(format!("{}/api/v1/specs/apply", api.base))
            .json(&body)
            .send()
    };
    let jobs = json!([
        {"name": "ok", "schedule": "@hourly", "plugin": "hello"},
        {"name": "bad-cron", "schedule": "every day", "plugin": "hello"},
        {"name": "ok", "schedule": "@daily", "plugin": "hello"},
        {"schedule": "@hourly", "plugin": "hello"},
    ]);
    let answer = post(json!({"source": "jobs.yaml", "jobs": jobs}))
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let error = answer.json::<Value>().await.unwrap()["error"].clone();
    assert_eq!(error["field"], "jobs[1].schedule");
    let fields: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["jobs[1].schedule", "jobs[2].name", "jobs[3].name"]);
    assert!(
        error["message"].as_str().unwrap().starts_with(
            "3 invalid entries, nothing was applied: entry #2 (bad-cron) field schedule"
        ),
        "{error}"
    );
    let (_, page) = api.get("/api/v1/jobs").await;
    assert_eq!(page["items"], json!([]), "nothing applied");

    // A valid list: planned, applied, then the same list again changes nothing.
    let jobs = json!([{"name": "ok", "schedule": "@hourly", "plugin": "hello"}]);
    let plan: Value = post(json!({"source": "jobs.yaml", "jobs": jobs}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        plan,
        json!({"source": "jobs.yaml", "dry_run": false, "unchanged": 0,
               "changes": [{"action": "create", "name": "ok", "fields": {}}]})
    );
    let (_, job) = api.get("/api/v1/jobs/ok").await;
    assert_eq!(job["managed_by"], "jobs.yaml");
    let again: Value = post(json!({"source": "jobs.yaml", "jobs": jobs, "dry_run": true}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&again["changes"], &again["unchanged"]),
        (&json!([]), &json!(1))
    );
    let answer = post(json!({"source": " ", "jobs": []})).await.unwrap();
    assert_eq!(answer.status(), 400);
    let (status, export) = api.get("/api/v1/specs").await;
    assert_eq!(status, 200);
    assert_eq!(
        export,
        json!({"jobs": [{"name": "ok", "schedule": "@hourly", "plugin": "hello"}]})
    );
}
