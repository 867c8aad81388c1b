//! Several replicas of the real binary on one real database server behave as one scheduler,
//! on PostgreSQL and on MariaDB alike (each test runs on both: `cluster::<test>::mariadb`):
//! a crashed replica's jobs fire on the survivors within seconds, a paused (SIGSTOP) replica is
//! fenced and gets its share back when it returns, scaling up and down rebalances the jobs
//! without a lost or doubled tick, changes made on any replica reach the owner at once, and a
//! replica with a skewed clock is neither declared dead nor runs anything twice. Executions are
//! counted where they happen (the `reporter` plugin POSTs each one to a collector).
//!
//! The tests run alone (they share two cores). Where a test is not about the default
//! thresholds it uses `--heartbeat-interval 1s --dead-after 5s` to stay short.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::json;
use wasmcron_e2e::cluster::{Cluster, Engine, RunRow};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::log::plain;
use wasmcron_e2e::turns;

on_every_engine! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_crashed_replicas_jobs_fire_on_the_survivors_within_3s,
    a_paused_replica_is_fenced_and_rejoins_with_a_fair_share,
    scaling_up_and_down_rebalances_without_losing_or_doubling_a_tick,
    a_paused_job_survives_its_owners_crash_and_fires_when_resumed,
    a_schedule_edit_on_another_replica_takes_effect_on_the_owner_within_1s,
    a_replica_with_its_clock_30s_ahead_is_not_declared_dead_and_runs_nothing_twice,
    the_housekeeping_leader_fails_over,
}

/// Short thresholds for tests that are not about the defaults.
const FAST: &[&str] = &["--heartbeat-interval", "1s", "--dead-after", "5s"];

/// The live replicas' job counts differ by at most one and cover every job.
fn balanced(counts: &BTreeMap<String, i64>, replicas: &[&str], total: i64) -> bool {
    let owned: Vec<i64> = replicas
        .iter()
        .map(|r| counts.get(*r).copied().unwrap_or(0))
        .collect();
    owned.iter().sum::<i64>() == total
        && owned.iter().max().unwrap() - owned.iter().min().unwrap() <= 1
}

async fn wait_balanced(c: &Cluster, replicas: &[&str], total: i64, within: Duration) {
    let what = format!("{total} jobs balanced over {replicas:?}");
    c.wait_for(&what, within, || async {
        balanced(&c.owner_counts().await, replicas, total)
    })
    .await;
}

/// Each job's recorded ticks, by job.
fn ticks_by_job(runs: &[RunRow]) -> BTreeMap<String, Vec<&RunRow>> {
    let mut by_job: BTreeMap<String, Vec<&RunRow>> = BTreeMap::new();
    for r in runs {
        by_job.entry(r.job_id.clone()).or_default().push(r);
    }
    by_job
}

/// Every tick of every (every-second) job from its first to its last record is recorded.
fn assert_no_gaps(runs: &[RunRow]) {
    for (job, ticks) in ticks_by_job(runs) {
        for pair in ticks.windows(2) {
            assert_eq!(
                pair[1].scheduled_at_ms - pair[0].scheduled_at_ms,
                1000,
                "job {job}: a tick is missing between {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

/// Every execution the collector saw was recorded, by the replica that executed it.
fn assert_executed_by_recorded_owner(collector: &Collector, runs: &[RunRow]) {
    let recorded: HashMap<(&str, i64), Option<&str>> = runs
        .iter()
        .map(|r| {
            (
                (r.job_id.as_str(), r.scheduled_at_ms),
                r.instance_id.as_deref(),
            )
        })
        .collect();
    for e in collector.reports() {
        let Some(by) = recorded.get(&(e.job_id.as_str(), e.scheduled_at)) else {
            panic!("execution without a run record: {e:?}");
        };
        assert_eq!(
            *by,
            Some(e.instance_id.as_str()),
            "executed by a replica that did not record it: {e:?}"
        );
    }
}

/// The replicas that executed each job's ticks since `since` (collector index).
fn executors_since(collector: &Collector, since: usize) -> HashMap<String, HashSet<String>> {
    let mut by_job: HashMap<String, HashSet<String>> = HashMap::new();
    for e in collector.reports().into_iter().skip(since) {
        by_job.entry(e.job_id).or_default().insert(e.instance_id);
    }
    by_job
}

/// 3 replicas, 300 jobs every second: `kill -9` one → its jobs fire on the survivors within
/// 3 s (crash detection through the database session, not the heartbeat threshold); no tick
/// ran twice; with run_once no job lost more than the tick that was in flight at the crash.
async fn a_crashed_replicas_jobs_fire_on_the_survivors_within_3s(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2", "r3"] {
        c.start(id).await;
    }
    c.create_reporter_jobs("r1", 300, "job", &collector, json!({"misfire": "run_once"}))
        .await;
    wait_balanced(&c, &["r1", "r2", "r3"], 300, Duration::from_secs(30)).await;
    // Every job fires somewhere before the crash.
    c.wait_for("every job fired", Duration::from_secs(20), || async {
        executors_since(&collector, 0).len() == 300
    })
    .await;
    let victims: HashSet<String> = c
        .owners()
        .await
        .into_iter()
        .filter(|(_, owner, _)| owner.as_deref() == Some("r2"))
        .map(|(id, _, _)| id)
        .collect();
    assert!(victims.len() >= 99, "{}", victims.len());

    let seen_before = collector.reports().len();
    let killed = Instant::now();
    c.host_mut("r2").kill9();
    // Failover: first execution of each orphaned job on a survivor.
    let first_on_survivor = collector
        .first_elsewhere(&victims, "r2", seen_before, killed, Duration::from_secs(15))
        .await;
    let slowest = first_on_survivor
        .values()
        .max()
        .copied()
        .unwrap_or_default();
    assert_eq!(
        first_on_survivor.len(),
        victims.len(),
        "some jobs of the crashed replica never fired on a survivor\n{}",
        c.logs_tail(40)
    );
    eprintln!(
        "failover of {} jobs after kill -9: slowest {slowest:?}",
        first_on_survivor.len()
    );
    assert!(
        slowest <= Duration::from_secs(3),
        "failover took {slowest:?} (> 3 s)\n{}",
        c.logs_tail(40)
    );
    // Spread over both survivors, balanced.
    wait_balanced(&c, &["r1", "r3"], 300, Duration::from_secs(10)).await;
    // Let the survivors run a few more ticks, then check the whole history.
    tokio::time::sleep(Duration::from_secs(2)).await;
    collector.assert_no_duplicates();
    let runs = c.runs().await;
    assert_no_gaps(&runs);
    assert_executed_by_recorded_owner(&collector, &runs);
    for (job, ticks) in ticks_by_job(&runs) {
        let lost = ticks
            .iter()
            .filter(|r| r.status == "missed" || r.reason.as_deref() == Some("abandoned"))
            .count();
        assert!(
            lost <= 1,
            "job {job} lost {lost} ticks: {:?}",
            ticks
                .iter()
                .filter(|r| r.status != "succeeded")
                .collect::<Vec<_>>()
        );
    }
}

/// SIGSTOP one replica for 20 s: its jobs move after the dead threshold (not before); once it
/// resumes it runs nothing it no longer owns, re-registers, and gets its share back.
async fn a_paused_replica_is_fenced_and_rejoins_with_a_fair_share(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(engine, FAST).await;
    for id in ["r1", "r2", "r3"] {
        c.start(id).await;
    }
    c.create_reporter_jobs("r1", 30, "job", &collector, json!({}))
        .await;
    wait_balanced(&c, &["r1", "r2", "r3"], 30, Duration::from_secs(20)).await;
    c.wait_for("every job fired", Duration::from_secs(20), || async {
        executors_since(&collector, 0).len() == 30
    })
    .await;

    let stopped = Instant::now();
    c.host("r3").sigstop();
    c.wait_for(
        "r3's jobs moved to r1 and r2",
        Duration::from_secs(15),
        || async { !c.owner_counts().await.contains_key("r3") },
    )
    .await;
    let moved_after = stopped.elapsed();
    assert!(
        moved_after >= Duration::from_secs(4),
        "jobs moved after {moved_after:?}, before the 5 s dead threshold: a stopped process keeps its session"
    );
    assert!(
        moved_after <= Duration::from_secs(7),
        "jobs moved only after {moved_after:?} (threshold 5 s)"
    );
    wait_balanced(&c, &["r1", "r2"], 30, Duration::from_secs(10)).await;
    let remaining = Duration::from_secs(20).saturating_sub(stopped.elapsed());
    tokio::time::sleep(remaining).await;
    c.host("r3").sigcont();

    wait_balanced(&c, &["r1", "r2", "r3"], 30, Duration::from_secs(20)).await;
    let rejoined = collector.reports().len();
    c.wait_for(
        "r3 runs its share again",
        Duration::from_secs(10),
        || async {
            collector
                .reports()
                .iter()
                .skip(rejoined)
                .any(|e| e.instance_id == "r3")
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    collector.assert_no_duplicates();
    let runs = c.runs().await;
    assert_no_gaps(&runs);
    assert_executed_by_recorded_owner(&collector, &runs);
    let (status, instances) = c.host("r1").get("/api/v1/instances").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = instances
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r1", "r2", "r3"], "r3 re-registered: {instances}");
}

/// Scale 1 → 2 → 3 → 2 → 1 replicas (graceful stops) while 60 jobs fire every second: after
/// each step the job counts balance within one, and over the whole test no tick ran twice and
/// none was lost (every tick between a job's first and last is recorded and succeeded).
async fn scaling_up_and_down_rebalances_without_losing_or_doubling_a_tick(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(engine, FAST).await;
    c.start("r1").await;
    c.create_reporter_jobs("r1", 60, "job", &collector, json!({}))
        .await;
    wait_balanced(&c, &["r1"], 60, Duration::from_secs(10)).await;
    c.wait_for("every job fired", Duration::from_secs(20), || async {
        executors_since(&collector, 0).len() == 60
    })
    .await;

    c.start("r2").await;
    wait_balanced(&c, &["r1", "r2"], 60, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.start("r3").await;
    wait_balanced(&c, &["r1", "r2", "r3"], 60, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let status = c.host_mut("r3").stop(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    wait_balanced(&c, &["r1", "r2"], 60, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = c.host_mut("r2").stop(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    wait_balanced(&c, &["r1"], 60, Duration::from_secs(10)).await;
    let settled = collector.reports().len();
    c.wait_for(
        "two more ticks of every job",
        Duration::from_secs(10),
        || async { executors_since(&collector, settled).len() == 60 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    collector.assert_no_duplicates();
    let runs = c.runs().await;
    assert_no_gaps(&runs);
    assert_executed_by_recorded_owner(&collector, &runs);
    let not_run: Vec<&RunRow> = runs
        .iter()
        .filter(|r| r.status != "succeeded" && r.status != "running")
        .collect();
    assert!(not_run.is_empty(), "ticks lost in handoffs: {not_run:?}");
    let by: HashSet<String> = collector
        .reports()
        .into_iter()
        .map(|e| e.instance_id)
        .collect();
    assert_eq!(by.len(), 3, "every replica ran ticks: {by:?}");
}

/// The owner of job `id`.
async fn owner(c: &Cluster, id: &str) -> Option<String> {
    c.owners()
        .await
        .into_iter()
        .find(|(j, _, _)| j == id)
        .and_then(|(_, owner, _)| owner)
}

/// A paused job has an owner too; when that owner crashes the job moves, and resuming it
/// through another replica makes it fire.
async fn a_paused_job_survives_its_owners_crash_and_fires_when_resumed(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(engine, FAST).await;
    c.start("r1").await;
    c.start("r2").await;
    let ids = c
        .create_reporter_jobs("r1", 1, "paused", &collector, json!({"paused": true}))
        .await;
    let id = ids[0].clone();
    c.wait_for(
        "the paused job has an owner",
        Duration::from_secs(10),
        || async { owner(&c, &id).await.is_some() },
    )
    .await;
    let first = owner(&c, &id).await.unwrap();
    let other = if first == "r1" { "r2" } else { "r1" };
    c.host_mut(&first).kill9();
    c.wait_for(
        "the paused job moved to the survivor",
        Duration::from_secs(10),
        || async { owner(&c, &id).await.as_deref() == Some(other) },
    )
    .await;
    assert!(collector.reports().is_empty(), "a paused job ran");
    let (status, job) = c
        .host(other)
        .send("POST", &format!("/api/v1/jobs/{id}/resume"), json!({}))
        .await;
    assert_eq!(status, 200, "{job}");
    c.wait_for("the resumed job fires", Duration::from_secs(5), || async {
        collector
            .reports()
            .iter()
            .any(|e| e.job_id == id && e.instance_id == other)
    })
    .await;
}

/// A schedule edit made through a replica that does not own the job reaches the owner through
/// a notification: with heartbeats 5 s apart (so the periodic reconcile cannot explain it) the
/// new every-second schedule fires within 1 s of its first tick.
async fn a_schedule_edit_on_another_replica_takes_effect_on_the_owner_within_1s(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(
        engine,
        &["--heartbeat-interval", "5s", "--dead-after", "15s"],
    )
    .await;
    c.start("r1").await;
    c.start("r2").await;
    let ids = c
        .create_reporter_jobs(
            "r1",
            4,
            "edit",
            &collector,
            json!({"schedule": "@every 1h"}),
        )
        .await;
    c.wait_for("jobs owned by both", Duration::from_secs(20), || async {
        balanced(&c.owner_counts().await, &["r1", "r2"], 4)
    })
    .await;
    // Let the owners reconcile their share, then edit a job of r2 through r1.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let owners = c.owners().await;
    let (id, _, _) = owners
        .iter()
        .find(|(j, owner, _)| ids.contains(j) && owner.as_deref() == Some("r2"))
        .expect("a job owned by r2");
    let edited = Instant::now();
    let (status, job) = c
        .host("r1")
        .send(
            "PATCH",
            &format!("/api/v1/jobs/{id}"),
            json!({"schedule": "@every 1s"}),
        )
        .await;
    assert_eq!(status, 200, "{job}");
    c.wait_for(
        "the edited job fires on r2",
        Duration::from_secs(4),
        || async {
            collector
                .reports()
                .iter()
                .any(|e| e.job_id == *id && e.instance_id == "r2")
        },
    )
    .await;
    let first = edited.elapsed();
    // The first tick of the new schedule is 1 s after the edit.
    assert!(
        first <= Duration::from_secs(2),
        "the owner applied the edit late: first run {first:?} after the edit\n{}",
        c.logs_tail(30)
    );
}

/// How far ahead of this process's clock the newest time stamp in a replica's log is.
fn log_clock_skew(log: &str) -> Option<chrono::Duration> {
    let line = log.lines().rev().find(|l| !l.trim().is_empty())?;
    // Drop terminal colour codes, then read the leading RFC 3339 time stamp.
    let plain = plain(line);
    let stamp = plain.split_whitespace().next()?;
    let at = chrono::DateTime::parse_from_rfc3339(stamp).ok()?;
    Some(at.with_timezone(&chrono::Utc) - chrono::Utc::now())
}

/// One replica's clock runs 30 s ahead: every instant comes from the database clock, so it is
/// neither declared dead (no job changes owner after balancing) nor runs a tick twice, and its
/// ticks are on time.
async fn a_replica_with_its_clock_30s_ahead_is_not_declared_dead_and_runs_nothing_twice(
    engine: Engine,
) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let mut c = Cluster::on(engine, FAST).await;
    c.start("r1").await;
    let skewed = c.options("ahead").clock_offset("+30s");
    c.start_with(skewed).await;
    c.create_reporter_jobs("r1", 20, "job", &collector, json!({}))
        .await;
    wait_balanced(&c, &["r1", "ahead"], 20, Duration::from_secs(20)).await;
    let skew = log_clock_skew(&c.host("ahead").log()).expect("a time-stamped log line");
    assert!(
        skew >= chrono::Duration::seconds(25),
        "the replica's clock is not ahead ({skew})"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = c.owners().await;
    // Longer than the dead threshold.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let after = c.owners().await;
    assert_eq!(before, after, "a job changed owner (false death)");
    collector.assert_no_duplicates();
    let runs = c.runs().await;
    assert_no_gaps(&runs);
    assert_executed_by_recorded_owner(&collector, &runs);
    let ahead: Vec<&RunRow> = runs
        .iter()
        .filter(|r| r.instance_id.as_deref() == Some("ahead"))
        .collect();
    assert!(
        ahead.len() >= 50,
        "the skewed replica ran {} ticks",
        ahead.len()
    );
    assert!(
        ahead
            .iter()
            .all(|r| r.status == "succeeded" || r.status == "running"),
        "{:?}",
        ahead
            .iter()
            .filter(|r| r.status != "succeeded")
            .collect::<Vec<_>>()
    );
}

/// Housekeeping runs on one replica, the holder of a lease with its own epoch; when that
/// replica crashes a survivor takes the lease over (with a new epoch).
async fn the_housekeeping_leader_fails_over(engine: Engine) {
    let _turn = turns::alone().await;
    let mut c = Cluster::on(engine, FAST).await;
    c.start("r1").await;
    c.start("r2").await;
    c.wait_for("a leader", Duration::from_secs(10), || async {
        c.housekeeping_lease().await.is_some()
    })
    .await;
    let (leader, epoch) = c.housekeeping_lease().await.unwrap();
    let other = if leader == "r1" { "r2" } else { "r1" };
    c.host_mut(&leader).kill9();
    // The lease expires after the dead threshold (5 s) without renewal.
    c.wait_for("the survivor leads", Duration::from_secs(10), || async {
        c.housekeeping_lease()
            .await
            .is_some_and(|(holder, e)| holder == other && e > epoch)
    })
    .await;
}
