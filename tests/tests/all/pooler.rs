//! PostgreSQL behind PgBouncer in transaction mode (started by the test from Debian's package,
//! as a deployment behind PgBouncer, Supavisor or RDS Proxy sees it):
//!
//! - a replica started there without `--db-pool-mode transaction` refuses to start with one
//!   message that names the pooler and the flag;
//! - with the flag alone, crash detection falls back to the heartbeat threshold: after
//!   `kill -9` the crashed replica's jobs fire on the survivor within dead-after + 3 s;
//! - with `--db-session-url` (a direct connection beside the pooler) the session lock is back:
//!   failover within 3 s. Neither runs a tick twice.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::{Host, HostOptions};
use wasmcron_e2e::turns;

/// Heartbeat 1 s, dead after 5 s.
const FAST: &[&str] = &["--heartbeat-interval", "1s", "--dead-after", "5s"];
const DEAD_AFTER: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_start_behind_a_transaction_pooler_without_the_flag_says_what_to_do() {
    let _turn = turns::beside_others().await;
    let db = Engine::PgBouncer.fresh_database();
    let plugins = wasmcron_e2e::built::plugins_dir();
    let log = Host::start_refused(HostOptions::new(&db.url, "r1", &plugins)).await;
    assert!(
        log.contains("--db-pool-mode transaction") && log.contains("pooler"),
        "the refusal names the pooler and the flag; log:\n{log}"
    );
    let errors = log.lines().filter(|l| l.contains("ERROR")).count();
    assert!(errors <= 1, "one clear message, not a cascade; log:\n{log}");
}

/// Two replicas through the pooler, 40 jobs every second; `kill -9` r2 → each of its jobs
/// fires on r1 within `within`; no tick ran twice.
async fn failover_after_kill9(mut c: Cluster, collector: Collector, within: Duration) {
    c.start("r1").await;
    c.start("r2").await;
    c.create_reporter_jobs("r1", 40, "job", &collector, json!({}))
        .await;
    c.wait_for(
        "both replicas own jobs",
        Duration::from_secs(30),
        || async {
            let counts = c.owner_counts().await;
            counts.get("r1").copied().unwrap_or(0) + counts.get("r2").copied().unwrap_or(0) == 40
                && counts.get("r2").copied().unwrap_or(0) >= 10
        },
    )
    .await;
    let victims: HashSet<String> = c
        .owners()
        .await
        .into_iter()
        .filter(|(_, owner, _)| owner.as_deref() == Some("r2"))
        .map(|(id, _, _)| id)
        .collect();
    c.wait_for("r2's jobs fire", Duration::from_secs(10), || async {
        let fired: HashSet<String> = collector
            .reports()
            .into_iter()
            .filter(|e| e.instance_id == "r2")
            .map(|e| e.job_id)
            .collect();
        victims.is_subset(&fired)
    })
    .await;

    let seen = collector.reports().len();
    let killed = Instant::now();
    c.host_mut("r2").kill9();
    // With two replicas, every execution not on r2 is on r1.
    let first_on_r1 = collector
        .first_elsewhere(
            &victims,
            "r2",
            seen,
            killed,
            within + Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        first_on_r1.len(),
        victims.len(),
        "some jobs of the crashed replica never fired on the survivor\n{}",
        c.logs_tail(40)
    );
    let slowest = first_on_r1.values().max().copied().unwrap_or_default();
    eprintln!(
        "failover of {} jobs through PgBouncer after kill -9: slowest {slowest:?}",
        victims.len()
    );
    assert!(
        slowest <= within,
        "failover took {slowest:?} (> {within:?})\n{}",
        c.logs_tail(40)
    );
    collector.assert_no_duplicates();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_url_a_crash_is_detected_by_the_heartbeat_threshold() {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let c = Cluster::on(Engine::PgBouncer, FAST).await;
    failover_after_kill9(c, collector, DEAD_AFTER + Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_session_url_a_crash_is_detected_within_3s() {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let db = Engine::PgBouncer.fresh_database();
    let mut args = FAST.to_vec();
    args.extend_from_slice(Engine::PgBouncer.replica_args());
    args.extend_from_slice(&["--db-session-url", &db.direct]);
    let mut c = Cluster::new(&db.direct, &args).await;
    c.db = db.url;
    failover_after_kill9(c, collector, Duration::from_secs(3)).await;
}

/// Two replicas through the pooler alone; a SIGTERM stops one within its grace period, its
/// jobs handed to the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_behind_the_pooler_stops_gracefully() {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(Engine::PgBouncer, FAST).await;
    c.start("r1").await;
    c.start("r2").await;
    c.create_reporter_jobs("r1", 20, "job", &collector, json!({}))
        .await;
    c.wait_for("r2 owns jobs", Duration::from_secs(30), || async {
        c.owner_counts().await.get("r2").copied().unwrap_or(0) >= 5
    })
    .await;
    let status = c.host_mut("r2").stop(Duration::from_secs(20));
    assert!(status.success(), "{status}\n{}", c.host("r2").log());
    // Released at the stop; the survivor takes them at its next look (heartbeat or notice).
    c.wait_for("r1 owns every job", Duration::from_secs(10), || async {
        c.owner_counts().await.get("r1") == Some(&20)
    })
    .await;
}
