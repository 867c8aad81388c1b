//! A small HTTP collector on loopback that the `reporter` plugin POSTs every execution to, so
//! tests count side effects where they happen, not only in the runs table.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use serde_json::Value;

/// One execution as reported by the plugin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Execution {
    pub job_id: String,
    pub scheduled_at: i64,
    pub instance_id: String,
    pub catch_up: bool,
}

/// The collector: every report received, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    reports: Arc<Mutex<Vec<Execution>>>,
    /// The `attempt` of each report, by the same index as `reports` (pushed under its lock).
    attempts: Arc<Mutex<Vec<i64>>>,
    /// Reports of an attempt below this are recorded, then answered 500 (the reporter's run
    /// fails): a job whose first attempts fail.
    fail_below: Arc<AtomicI64>,
    /// Every report as the plugin sent it, in arrival order.
    raw: Arc<Mutex<Vec<Value>>>,
    pub port: u16,
}

impl Collector {
    /// Failover: for each of `jobs`, how long after `since` its first execution on an instance
    /// other than `not_on` was reported, among the reports from index `from` on (the count
    /// before the failure). Reads every 10 ms until each job has one or `within` has passed
    /// since `since`; a job that never moved is absent from the answer.
    pub async fn first_elsewhere(
        &self,
        jobs: &HashSet<String>,
        not_on: &str,
        from: usize,
        since: Instant,
        within: Duration,
    ) -> HashMap<String, Duration> {
        let mut first: HashMap<String, Duration> = HashMap::new();
        let mut cursor = from;
        while first.len() < jobs.len() && since.elapsed() < within {
            let reports = self.reports();
            for e in &reports[cursor..] {
                if jobs.contains(&e.job_id) && e.instance_id != not_on {
                    first
                        .entry(e.job_id.clone())
                        .or_insert_with(|| since.elapsed());
                }
            }
            cursor = reports.len();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        first
    }

    /// Start on a free loopback port.
    pub async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let collector = Collector {
            port: listener.local_addr().unwrap().port(),
            ..Collector::default()
        };
        let app = Router::new()
            .route("/report", post(report))
            .with_state(collector.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        collector
    }

    /// URL to put in the reporter job's input.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/report", self.port)
    }

    /// From now on, answer 500 to the reports of attempts below `attempt` (each is still
    /// recorded: its side effect happened), so the reporter's run fails; 0 answers all 200.
    pub fn fail_attempts_below(&self, attempt: i64) {
        self.fail_below.store(attempt, Ordering::SeqCst);
    }

    /// URL to put in the input of one reporter job whose attempts below `attempt` fail: the
    /// collector answers 500 to the reports that come through it (recording each), whatever
    /// [`Collector::fail_attempts_below`] says for the other jobs.
    pub fn url_failing_below(&self, attempt: i64) -> String {
        format!("{}?fail_below={attempt}", self.url())
    }

    /// `(job, tick, attempt)` executed more than once, with their counts.
    pub fn duplicate_attempts(&self) -> Vec<((String, i64, i64), usize)> {
        let mut counts: HashMap<(String, i64, i64), usize> = HashMap::new();
        for (r, attempt) in self.reports_with_attempts() {
            *counts
                .entry((r.job_id, r.scheduled_at, attempt))
                .or_default() += 1;
        }
        let mut dups: Vec<_> = counts.into_iter().filter(|(_, n)| *n > 1).collect();
        dups.sort();
        dups
    }

    /// Every report so far, in arrival order.
    pub fn reports(&self) -> Vec<Execution> {
        self.reports.lock().unwrap().clone()
    }

    /// Every report as the plugin sent it (JSON), in arrival order: with the reporter's
    /// `report_config`, its `config` object holds the values the plugin read.
    pub fn raw_reports(&self) -> Vec<Value> {
        self.raw.lock().unwrap().clone()
    }

    /// Every report with the attempt number the plugin reported, in arrival order.
    pub fn reports_with_attempts(&self) -> Vec<(Execution, i64)> {
        let reports = self.reports.lock().unwrap();
        let attempts = self.attempts.lock().unwrap();
        reports
            .iter()
            .cloned()
            .zip(attempts.iter().copied())
            .collect()
    }

    /// (job, tick) pairs executed more than once, with their counts.
    pub fn duplicates(&self) -> Vec<((String, i64), usize)> {
        let mut counts: HashMap<(String, i64), usize> = HashMap::new();
        for r in self.reports() {
            *counts.entry((r.job_id, r.scheduled_at)).or_default() += 1;
        }
        let mut dups: Vec<_> = counts.into_iter().filter(|(_, n)| *n > 1).collect();
        dups.sort();
        dups
    }

    /// Panics naming every (job, tick) executed more than once so far.
    pub fn assert_no_duplicates(&self) {
        let dups = self.duplicates();
        assert!(dups.is_empty(), "ticks executed twice: {dups:?}");
    }
}

/// The `fail_below` of a report's URL (see [`Collector::url_failing_below`]); 0 without one.
fn fail_below_in(uri: &Uri) -> i64 {
    uri.query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("fail_below="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn report(State(c): State<Collector>, uri: Uri, body: String) -> (StatusCode, &'static str) {
    let fail_below = fail_below_in(&uri).max(c.fail_below.load(Ordering::SeqCst));
    let mut failed = false;
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            let mut reports = c.reports.lock().unwrap();
            reports.push(Execution {
                job_id: v["job_id"].as_str().unwrap_or_default().to_string(),
                scheduled_at: v["scheduled_at"].as_i64().unwrap_or_default(),
                instance_id: v["instance_id"].as_str().unwrap_or_default().to_string(),
                catch_up: v["catch_up"].as_bool().unwrap_or_default(),
            });
            let attempt = v["attempt"].as_i64().unwrap_or_default();
            c.attempts.lock().unwrap().push(attempt);
            c.raw.lock().unwrap().push(v);
            failed |= attempt < fail_below;
        }
    }
    if failed {
        (StatusCode::INTERNAL_SERVER_ERROR, "failing on purpose")
    } else {
        (StatusCode::OK, "ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// POSTs one report of `attempt` to `url`; the answer's status.
    async fn post(url: &str, attempt: i64) -> u16 {
        let line = serde_json::json!({
            "job_id": "j", "scheduled_at": 1000, "instance_id": "r1", "attempt": attempt,
        });
        reqwest::Client::new()
            .post(url)
            .body(line.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn a_job_failing_below_an_attempt_fails_only_its_own_reports_and_each_is_recorded() {
        let c = Collector::start().await;
        assert_eq!(post(&c.url_failing_below(3), 1).await, 500);
        assert_eq!(post(&c.url_failing_below(3), 2).await, 500);
        assert_eq!(post(&c.url_failing_below(3), 3).await, 200);
        assert_eq!(post(&c.url(), 1).await, 200);
        c.fail_attempts_below(2);
        assert_eq!(post(&c.url(), 1).await, 500);
        assert_eq!(post(&c.url_failing_below(1), 1).await, 500);
        let attempts: Vec<i64> = c.reports_with_attempts().iter().map(|r| r.1).collect();
        assert_eq!(attempts, [1, 2, 3, 1, 1, 1]);
    }
}
