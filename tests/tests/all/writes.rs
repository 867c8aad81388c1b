//! A job written on one replica is reconciled alone, on every replica: a create, an edit, a
//! pause or a delete makes each replica look at that job (it hears of it through the
//! database's change notifications), not at every job it owns, and the owner acts on it within
//! seconds, long before its next round; a job created is claimed at once by the replica it was
//! written through. Rounds (every job) stay at the heartbeat's pace however many jobs are
//! written, which `wasmcron_reconciles_total{scope}` shows.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmcron_e2e::cluster::{Cluster, Engine};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::Host;
use wasmcron_e2e::host::log::plain;
use wasmcron_e2e::turns;

on_every_engine! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    jobs_written_one_at_a_time_are_reconciled_alone_and_at_once,
}

/// Long enough that a round cannot explain what the test sees within its deadlines.
const HEARTBEAT_S: u64 = 20;

/// `wasmcron_reconciles_total` of a replica: `(all, written)`.
async fn reconciles(host: &Host) -> (u64, u64) {
    let (status, text) = host.request(None, "GET", "/metrics", Value::Null).await;
    assert_eq!(status, 200, "{text}");
    let count = |scope: &str| {
        let prefix = format!("wasmcron_reconciles_total{{scope=\"{scope}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            // A scope's sample appears with its first count.
            .map_or(0, |v| v.trim().parse::<f64>().expect("a count") as u64)
    };
    (count("all"), count("written"))
}

async fn jobs_written_one_at_a_time_are_reconciled_alone_and_at_once(engine: Engine) {
    let _turn = turns::alone().await;
    let collector = Collector::start().await;
    let heartbeat = format!("{HEARTBEAT_S}s");
    let mut c = Cluster::on(
        engine,
        &["--heartbeat-interval", &heartbeat, "--dead-after", "60s"],
    )
    .await;
    c.start("r1").await;
    c.start("r2").await;
    let before = [
        reconciles(c.host("r1")).await,
        reconciles(c.host("r2")).await,
    ];
    let started = Instant::now();

    // Ten jobs created one at a time, through r1 and r2 in turn: each is claimed by the
    // replica it was written through, at once, and runs within seconds.
    let mut ids = Vec::new();
    for i in 0..10 {
        let via = if i % 2 == 0 { "r1" } else { "r2" };
        let id = c
            .create_reporter_jobs(via, 1, &format!("w{i}"), &collector, json!({}))
            .await
            .remove(0);
        ids.push((via, id));
    }
    c.wait_for("every job written runs", Duration::from_secs(8), || async {
        let reports = collector.reports();
        ids.iter()
            .all(|(_, id)| reports.iter().any(|r| r.job_id == *id))
    })
    .await;
    let owners = c.owners().await;
    for (via, id) in &ids {
        let owner = owners
            .iter()
            .find(|(j, _, _)| j == id)
            .and_then(|o| o.1.as_deref());
        assert_eq!(
            owner,
            Some(*via),
            "a job written through {via} is claimed by it\n{}",
            c.logs_tail(40)
        );
    }
    let on_r2: Vec<&String> = ids
        .iter()
        .filter(|(via, _)| *via == "r2")
        .map(|(_, id)| id)
        .collect();

    // A job of r2 deleted through r1: r2 drops it at once.
    let gone = on_r2[0].clone();
    let (status, body) = c
        .host("r1")
        .send("DELETE", &format!("/api/v1/jobs/{gone}"), Value::Null)
        .await;
    assert!(status == 200 || status == 204, "{status} {body}");
    c.wait_for(
        "r2 drops the job deleted through r1",
        Duration::from_secs(5),
        || async {
            plain(&c.host("r2").log())
                .lines()
                .any(|l| l.contains("job no longer owned here") && l.contains(gone.as_str()))
        },
    )
    .await;

    // However many jobs were written, rounds kept the heartbeat's pace.
    let elapsed = started.elapsed().as_secs();
    // One round each may have been on its way when the test began (r2's joining).
    let rounds_allowed = 2 + elapsed / HEARTBEAT_S;
    for (i, id) in ["r1", "r2"].into_iter().enumerate() {
        let (all, written) = reconciles(c.host(id)).await;
        let (all0, written0) = before[i];
        assert!(
            all - all0 <= rounds_allowed,
            "{id} reconciled every job {} times in {elapsed} s for 11 writes (at most {rounds_allowed} rounds expected)\n{}",
            all - all0,
            c.logs_tail(40)
        );
        assert!(
            written > written0,
            "{id} never reconciled the jobs written alone"
        );
    }
}
