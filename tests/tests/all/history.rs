//! Run history limits end to end, on every engine: a replica's housekeeping pass
//! (`--housekeeping-interval`) trims each job's history to the `runs.keep_succeeded` and
//! `runs.keep_failed` settings (newest runs kept, never one within the takeover look-back of
//! the job's newest tick, never another status) and to the age limit `runs.retention` (the
//! newest run of each job kept); a `keep_*` value below 1 is refused, naming the key, and
//! changes nothing.
//!
//! The history is hours old, so it is written before the replica starts, through the store
//! (the same library the binary uses): two jobs that never come due again, one ended run every
//! ten minutes.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use wasmcron::store::{BeginRun, FinishRun, Job, NewJob, NewRun, RunStatus, Store};
use wasmcron_e2e::built::plugins_dir;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::wait::poll_until;
use wasmcron_e2e::{mariadb, pg, turns};

const SEEDER: &str = "seeder";
const TEN_MINUTES: i64 = 600_000;
/// Ticks of the seeded job `kept`: `base + i * TEN_MINUTES` for `i` in `0..KEPT_TICKS`.
const KEPT_TICKS: i64 = 20;
/// Ticks of the seeded job `other`, the same way.
const OTHER_TICKS: i64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_history_is_trimmed_to_the_limits_and_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
    history_is_trimmed_to_the_limits_and_the_retention(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_history_is_trimmed_to_the_limits_and_the_retention() {
    let url = pg::shared().fresh_database().unwrap();
    history_is_trimmed_to_the_limits_and_the_retention(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mariadb_history_is_trimmed_to_the_limits_and_the_retention() {
    let url = mariadb::shared().fresh_database().unwrap();
    history_is_trimmed_to_the_limits_and_the_retention(&url).await;
}

/// Job `kept` failed at ticks `i % 3 == 2`, succeeded at the others.
fn kept_status(i: i64) -> RunStatus {
    if i % 3 == 2 {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    }
}

async fn seed_job(store: &Store, name: &str) -> Job {
    let job = store
        .create_job(NewJob::new(name, "0 0 1 1 *", "misbehave"))
        .await
        .expect("create job");
    store
        .heartbeat(SEEDER, "127.0.0.1:1", "test")
        .await
        .expect("heartbeat");
    store
        .claim_jobs(SEEDER, 60_000)
        .await
        .expect("claim")
        .into_iter()
        .find(|j| j.id == job.id)
        .expect("the seeder owns the job")
}

/// Writes ended runs of `job` at `base + i * TEN_MINUTES`, `i` in `0..ticks`.
async fn seed_runs(store: &Store, job: &Job, base: i64, ticks: i64, status: fn(i64) -> RunStatus) {
    for i in 0..ticks {
        let run = NewRun {
            job_id: job.id.clone(),
            scheduled_at_ms: base + i * TEN_MINUTES,
            instance_id: SEEDER.to_owned(),
            epoch: job.epoch,
            plugin_digest: None,
            attempt: 1,
            catch_up: false,
            manual: false,
        };
        let BeginRun::Started(id) = store.begin_run(&run).await.expect("begin") else {
            panic!("seeded run {i} of {} did not start", job.name);
        };
        let finish = FinishRun {
            status: status(i),
            result: None,
            error: None,
            logs: None,
        };
        store
            .finish_run(id, job.epoch, &finish)
            .await
            .expect("finish");
    }
}

/// The ticks (`i`) of a job's recorded runs.
async fn ticks(host: &Host, job: &str, base: i64) -> BTreeSet<i64> {
    host.runs(job)
        .await
        .iter()
        .map(|r| {
            let at = chrono::DateTime::parse_from_rfc3339(r["scheduled_at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis();
            (at - base) / TEN_MINUTES
        })
        .collect()
}

async fn put_setting(host: &Host, key: &str, value: Value) -> (u16, Value) {
    host.send(
        "PUT",
        &format!("/api/v1/settings/{key}"),
        json!({ "value": value }),
    )
    .await
}

async fn history_is_trimmed_to_the_limits_and_the_retention(url: &str) {
    let _turn = turns::beside_others().await;
    // 20 ticks of `kept` from 4 h ago, ten minutes apart (the newest 50 min ago); 5 of `other`.
    let now = chrono::Utc::now().timestamp_millis();
    let base = now - 4 * 3_600_000;
    {
        let store = Store::connect(url).await.expect("open the database");
        store.migrate().await.expect("migrate");
        let kept = seed_job(&store, "kept").await;
        let other = seed_job(&store, "other").await;
        seed_runs(&store, &kept, base, KEPT_TICKS, kept_status).await;
        seed_runs(&store, &other, base, OTHER_TICKS, |_| RunStatus::Succeeded).await;
    }

    let mut options = HostOptions::new(url, "solo", &plugins_dir());
    options.extra_args = ["--housekeeping-interval", "1s"].map(String::from).to_vec();
    let host = Host::start(options).await;
    let all_kept: BTreeSet<i64> = (0..KEPT_TICKS).collect();
    assert_eq!(ticks(&host, "kept", base).await, all_kept);

    // Refused below 1, the key named; nothing set.
    let (status, err) = put_setting(&host, "runs.keep_failed", json!(0)).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err.to_string().contains("runs.keep_failed"),
        "the error names the key: {err}"
    );
    let (_, settings) = host.get("/api/v1/settings").await;
    assert_eq!(settings["runs.keep_failed"], Value::Null, "{settings}");

    // kept: succeeded at 0,1,3,4,6,7,9,10,12,13,15,16,18,19, failed at 2,5,8,11,14,17. The
    // newest three succeeded are 16, 18 and 19; the newest two failed 14 and 17; the takeover
    // look-back (15 minutes below the newest tick) holds 18 and 19 anyway.
    for (key, value) in [("runs.keep_succeeded", 3), ("runs.keep_failed", 2)] {
        let (status, body) = put_setting(&host, key, json!(value)).await;
        assert_eq!(status, 200, "{body}");
    }
    let expected: BTreeSet<i64> = [14, 16, 17, 18, 19].into();
    poll_until(
        "housekeeping trims kept to its newest 3 succeeded and 2 failed runs",
        Duration::from_secs(20),
        Duration::from_millis(250),
        || async { ticks(&host, "kept", base).await == expected },
        || host.log(),
    )
    .await;
    assert_eq!(
        ticks(&host, "other", base).await,
        [2, 3, 4].into(),
        "other keeps its newest three"
    );

    // Age: a retention of 75 minutes leaves the ticks of the last 75 minutes (17, 18, 19 at
    // 70, 60 and 50 minutes ago) and, of `other` (all hours old), only its newest run.
    let (status, body) = put_setting(&host, "runs.retention", json!("75m")).await;
    assert_eq!(status, 200, "{body}");
    let expected: BTreeSet<i64> = [17, 18, 19].into();
    poll_until(
        "housekeeping deletes the runs older than the retention",
        Duration::from_secs(20),
        Duration::from_millis(250),
        || async {
            ticks(&host, "kept", base).await == expected
                && ticks(&host, "other", base).await == [4].into()
        },
        || host.log(),
    )
    .await;
    assert!(
        host.log().contains("run history limits"),
        "the pass that trimmed is logged"
    );
}
