//! The event stream is cluster-wide: a client connected to replica B sees what replica A
//! does (PostgreSQL: events persisted, replicas woken by LISTEN/NOTIFY).

use std::time::Duration;

use serde_json::{Value, json};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::events::subscribe;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::{pg, turns};

/// Replica A alone creates (and so owns) the job; B starts after, and B's client subscribes.
async fn two_replicas_a_owning(job: Value) -> (Host, Host) {
    let url = pg::shared().fresh_database().unwrap();
    let plugins = plugins_dir();
    let a = Host::start(HostOptions::new(&url, "sse-a", &plugins)).await;
    let name = job["name"].as_str().unwrap().to_string();
    let (status, body) = a.send("POST", "/api/v1/jobs", job).await;
    assert_eq!(status, 201, "{body}");
    a.wait_for("A to own the job", Duration::from_secs(15), || async {
        a.get(&format!("/api/v1/jobs/{name}")).await.1["owner"] == "sse-a"
    })
    .await;
    let b = Host::start(HostOptions::new(&url, "sse-b", &plugins)).await;
    b.wait_for("B registered", Duration::from_secs(15), || async {
        b.get("/api/v1/instances")
            .await
            .1
            .as_array()
            .is_some_and(|i| i.len() == 2)
    })
    .await;
    (a, b)
}

#[tokio::test]
async fn a_client_of_replica_b_sees_the_runs_of_a_job_owned_by_replica_a() {
    let _turn = turns::beside_others().await;
    let (a, b) = two_replicas_a_owning(
        json!({"name": "every-second", "schedule": "@every 1s", "plugin": "hello"}),
    )
    .await;
    let mut events = subscribe(&b, "?kind=run.started,run.finished", None).await;
    let started = events
        .wait_for("a run of A started", Duration::from_secs(20), |e| {
            e["kind"] == "run.started"
                && e["data"]["job"] == "every-second"
                && e["data"]["instance_id"] == "sse-a"
        })
        .await;
    let finished = events
        .wait_for("that run finished", Duration::from_secs(20), |e| {
            e["kind"] == "run.finished" && e["data"]["run_id"] == started["data"]["run_id"]
        })
        .await;
    assert_eq!(finished["data"]["status"], "succeeded", "{finished}");
    assert_eq!(finished["data"]["instance_id"], "sse-a");
    drop(a);
}

#[tokio::test]
async fn a_trigger_sent_to_replica_b_is_run_by_owner_a_and_streamed_by_b() {
    let _turn = turns::beside_others().await;
    let (a, b) = two_replicas_a_owning(
        json!({"name": "on-demand", "schedule": "0 0 1 1 *", "plugin": "hello"}),
    )
    .await;
    let mut events = subscribe(&b, "", None).await;
    let sent = std::time::Instant::now();
    let (status, trigger) = b
        .send("POST", "/api/v1/jobs/on-demand/trigger", Value::Null)
        .await;
    assert_eq!(status, 202, "{trigger}");
    assert_eq!(trigger["owner"], "sse-a");
    events
        .wait_for("the trigger", Duration::from_secs(10), |e| {
            e["kind"] == "job.changed" && e["data"]["change"] == "triggered"
        })
        .await;
    let started = events
        .wait_for("the manual run on A", Duration::from_secs(10), |e| {
            e["kind"] == "run.started" && e["data"]["job"] == "on-demand"
        })
        .await;
    // Accepted by B, run by A, announced by A, delivered by B: LISTEN/NOTIFY latency.
    println!(
        "trigger on B to run.started from A on B's stream: {:?}",
        sent.elapsed()
    );
    assert_eq!(started["data"]["manual"], true);
    assert_eq!(started["data"]["instance_id"], "sse-a");
    assert_eq!(started["data"]["scheduled_at"], trigger["scheduled_at"]);
    events
        .wait_for("its end", Duration::from_secs(10), |e| {
            e["kind"] == "run.finished" && e["data"]["run_id"] == started["data"]["run_id"]
        })
        .await;
    let runs = b.runs("on-demand").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["manual"], true);
    assert_eq!(runs[0]["instance_id"], "sse-a");
    drop(a);
}
