//! One live process per instance id, on every engine: a second process started with the id
//! of a live replica refuses to start, naming the id and what to do, and changes nothing (the
//! live replica keeps its jobs); a restart after a crash (kill -9) is not refused.

use std::time::Duration;

use serde_json::json;
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::{pg, turns};

const ID: &str = "one";

async fn refuses_a_second_process_and_allows_a_restart_after_a_crash(db: &str) {
    let _turn = turns::alone().await;
    let plugins = plugins_dir();
    let options = HostOptions::new(db, ID, &plugins);
    let mut first = Host::start(options.clone()).await;
    let (status, job) = first
        .send(
            "POST",
            "/api/v1/jobs",
            json!({"name": "held", "schedule": "@every 1s", "plugin": "hello"}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    first
        .wait_for("the job is owned", Duration::from_secs(15), || async {
            let (_, job) = first.get("/api/v1/jobs/held").await;
            job["owner"] == ID
        })
        .await;

    let log = Host::start_refused(options.clone()).await;
    assert!(
        log.contains(&format!("instance id \"{ID}\" is in use by a live replica"))
            && log.contains("--instance-id"),
        "the refusal names the id and what to do; log:\n{log}"
    );
    // The refused process released nothing: the job is still held by the first one.
    let (_, job) = first.get("/api/v1/jobs/held").await;
    assert_eq!(job["owner"], ID, "{job}");
    let version = job["version"].clone();
    first
        .wait_for("the job still runs", Duration::from_secs(10), || async {
            first.runs(job["id"].as_str().unwrap()).await.len() >= 2
        })
        .await;
    let (_, job) = first.get("/api/v1/jobs/held").await;
    assert_eq!(job["version"], version, "nothing was written to the job");

    first.kill9();
    let restarted = Host::start(options).await;
    restarted
        .wait_for(
            "the restarted replica owns the job",
            Duration::from_secs(15),
            || async {
                let (_, job) = restarted.get("/api/v1/jobs/held").await;
                job["owner"] == ID
            },
        )
        .await;
}

#[tokio::test]
async fn sqlite_one_process_per_instance_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    refuses_a_second_process_and_allows_a_restart_after_a_crash(&db).await;
}

#[tokio::test]
async fn postgres_one_process_per_instance_id() {
    let db = pg::shared().fresh_database().unwrap();
    refuses_a_second_process_and_allows_a_restart_after_a_crash(&db).await;
}
