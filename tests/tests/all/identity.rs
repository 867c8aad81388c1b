//! One live process per instance id, on every engine (SQLite, PostgreSQL directly and
//! behind PgBouncer, MariaDB): a second process started with the id
//! of a live replica refuses to start, naming the id and what to do, and changes nothing (the
//! live replica keeps its jobs); a restart after a crash (kill -9) is not refused.

use std::time::Duration;

use serde_json::json;
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::cluster::Engine;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::{pg, turns};

const ID: &str = "one";

async fn refuses_a_second_process_and_allows_a_restart_after_a_crash(db: &str, args: &[&str]) {
    let _turn = turns::alone().await;
    let plugins = plugins_dir();
    let mut options = HostOptions::new(db, ID, &plugins);
    options.extra_args = args.iter().map(|a| a.to_string()).collect();
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
    refuses_a_second_process_and_allows_a_restart_after_a_crash(&db, &[]).await;
}

#[tokio::test]
async fn postgres_one_process_per_instance_id() {
    let db = pg::shared().fresh_database().unwrap();
    refuses_a_second_process_and_allows_a_restart_after_a_crash(&db, &[]).await;
}

#[tokio::test]
async fn mariadb_one_process_per_instance_id() {
    let db = Engine::MariaDb.fresh_database();
    refuses_a_second_process_and_allows_a_restart_after_a_crash(&db.url, &[]).await;
}

/// Through PgBouncer with a session URL: the session lock is taken on the direct connection.
#[tokio::test]
async fn pgbouncer_with_a_session_url_one_process_per_instance_id() {
    let db = Engine::PgBouncer.fresh_database();
    let mut args = Engine::PgBouncer.replica_args().to_vec();
    args.extend_from_slice(&["--db-session-url", &db.direct]);
    refuses_a_second_process_and_allows_a_restart_after_a_crash(&db.url, &args).await;
}

/// Through PgBouncer alone (no server session of its own): a live replica's fresh heartbeat
/// refuses the second process.
#[tokio::test]
async fn pgbouncer_without_a_session_url_refuses_a_second_process() {
    let _turn = turns::alone().await;
    let db = Engine::PgBouncer.fresh_database();
    let plugins = plugins_dir();
    let mut options = HostOptions::new(&db.url, ID, &plugins);
    options.extra_args = Engine::PgBouncer
        .replica_args()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let _first = Host::start(options.clone()).await;
    let log = Host::start_refused(options).await;
    assert!(
        log.contains(&format!("instance id \"{ID}\" is in use by a live replica")),
        "the refusal names the id; log:\n{log}"
    );
}
