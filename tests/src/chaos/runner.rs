//! The state of a chaos run and what the faults and the checks need from it: the replicas,
//! the jobs and their history, the API, the event log, the RSS samples.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::Value;

use super::deck::Fault;
use super::faults::{job_body, kind_of};
use super::replicas::Replicas;
use super::settings::Settings;
use super::{JobHistory, Segment, Trigger};
use crate::collector::Collector;
use crate::db::{JobRow, Pool, TestDb};
use crate::host::rss_kib;

/// Timestamped event log: stdout and `events.log` in the output directory.
pub(super) struct Log {
    pub(super) start: Instant,
    pub(super) file: Mutex<std::fs::File>,
}

impl Log {
    pub(super) fn say(&self, msg: impl AsRef<str>) {
        let line = format!(
            "[{:>8.1}s {}] {}",
            self.start.elapsed().as_secs_f64(),
            chrono::Utc::now().format("%H:%M:%S%.3f"),
            msg.as_ref()
        );
        println!("{line}");
        let _ = writeln!(self.file.lock().unwrap(), "{line}");
    }
}

/// Replica processes to sample: label → pid.
pub(super) type Procs = Arc<Mutex<BTreeMap<String, (u32, Instant)>>>;
/// RSS samples: label → (seconds since start, KiB).
pub(super) type Samples = Arc<Mutex<BTreeMap<String, Vec<(f64, u64)>>>>;

pub(super) struct Chaos {
    pub(super) s: Settings,
    pub(super) rng: StdRng,
    pub(super) log: Log,
    pub(super) out: PathBuf,
    /// The database's servers.
    pub(super) db: TestDb,
    /// The run's own reads, straight from the database server.
    pub(super) sql: Pool,
    /// The replicas and their proxies.
    pub(super) c: Replicas,
    pub(super) collector: Collector,
    pub(super) http: reqwest::Client,
    pub(super) jobs: Vec<JobHistory>,
    pub(super) procs: Procs,
    /// Log files of every replica started (for copying when the run ends, or panics).
    pub(super) logs: Arc<Mutex<Vec<(String, PathBuf)>>>,
    pub(super) next_replica: usize,
    pub(super) next_job: usize,
    pub(super) plugin_version: usize,
    pub(super) faults: BTreeMap<Fault, usize>,
    /// Manual triggers the API accepted, and how many it refused (409: a run in progress).
    pub(super) triggers: Vec<Trigger>,
    pub(super) triggers_refused: usize,
}

impl Chaos {
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).expect("a non-empty choice")
    }

    pub(super) fn secs(&mut self, lo: f64, hi: f64) -> Duration {
        Duration::from_secs_f64(self.rng.random_range(lo..hi))
    }

    /// Indices of the running replicas.
    pub(super) fn live(&self) -> Vec<usize> {
        (0..self.c.hosts.len())
            .filter(|&i| self.c.hosts[i].is_running())
            .collect()
    }

    pub(super) fn label(&self, i: usize) -> String {
        format!("{}#{i}", self.c.hosts[i].options.instance_id)
    }

    pub(super) async fn db_now(&self) -> anyhow::Result<i64> {
        Ok(self.sql.now_ms().await?)
    }

    /// Start replica `id` (optionally with a clock offset) through its proxy and register it
    /// for sampling.
    pub(super) async fn start_replica(
        &mut self,
        id: &str,
        offset: Option<&str>,
    ) -> anyhow::Result<usize> {
        let i = self.c.start(&self.db, id, offset).await?;
        let label = self.label(i);
        self.procs
            .lock()
            .unwrap()
            .insert(label.clone(), (self.c.hosts[i].pid(), Instant::now()));
        self.logs
            .lock()
            .unwrap()
            .push((label, self.c.hosts[i].log_path()));
        Ok(i)
    }

    pub(super) fn forget(&self, i: usize) {
        self.procs.lock().unwrap().remove(&self.label(i));
    }

    /// One API call through the first live replica that answers.
    pub(super) async fn api(
        &self,
        method: &str,
        path: &str,
        body: Value,
    ) -> anyhow::Result<(u16, Value)> {
        let mut last = None;
        for i in self.live() {
            let url = format!("{}/api/v1{path}", self.c.hosts[i].base);
            let request = self
                .http
                .request(method.parse()?, &url)
                .timeout(Duration::from_secs(15))
                .json(&body)
                .send();
            match request.await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    return Ok((status, r.json().await.unwrap_or(Value::Null)));
                }
                Err(e) => last = Some(e),
            }
        }
        bail!("{method} {path}: no replica answered ({last:?})")
    }

    /// The job's row.
    pub(super) async fn job_row(&self, id: &str) -> anyhow::Result<JobRow> {
        Ok(self.sql.job_row(id).await?)
    }

    /// Create job number `n` (its kind follows from `n`); returns its id.
    pub(super) async fn create_job(&mut self, n: usize, name: String) -> anyhow::Result<String> {
        let body = job_body(&self.collector, &name, n, self.s.retry_of(n));
        let (status, job) = self.api("POST", "/jobs", body).await?;
        if status != 201 {
            bail!("creating job {name}: {status} {job}");
        }
        let id = job["id"]
            .as_str()
            .context("created job has an id")?
            .to_string();
        self.track_job(n, id.clone(), name).await?;
        Ok(id)
    }

    /// Start the history of job number `n`, just created, from its anchor.
    pub(super) async fn track_job(
        &mut self,
        n: usize,
        id: String,
        name: String,
    ) -> anyhow::Result<()> {
        let (misfire, overlap, sleep_ms) = kind_of(n);
        let anchor = self.job_row(&id).await?.anchor_ms;
        self.jobs.push(JobHistory {
            id,
            name,
            misfire,
            overlap,
            slow: sleep_ms.is_some(),
            retry: self.s.retry_of(n),
            segments: vec![Segment {
                period_ms: 1000,
                start_ms: anchor,
                end_ms: None,
            }],
            deleted: false,
        });
        Ok(())
    }

    /// Create the initial jobs, 16 requests at a time.
    pub(super) async fn create_jobs(&mut self) -> anyhow::Result<()> {
        let base = self.c.hosts[self.live()[0]].base.clone();
        let n = self.s.jobs;
        for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for &i in chunk {
                let request = self
                    .http
                    .post(format!("{base}/api/v1/jobs"))
                    .json(&job_body(
                        &self.collector,
                        &format!("job-{i:04}"),
                        i,
                        self.s.retry_of(i),
                    ))
                    .send();
                set.spawn(async move {
                    let r = request.await?;
                    let status = r.status().as_u16();
                    let job: Value = r.json().await.unwrap_or(Value::Null);
                    if status != 201 {
                        bail!("creating job {i}: {status} {job}");
                    }
                    Ok((i, job["id"].as_str().unwrap_or_default().to_string()))
                });
            }
            while let Some(done) = set.join_next().await {
                let (i, id) = done??;
                self.track_job(i, id, format!("job-{i:04}")).await?;
            }
        }
        self.next_job = n;
        Ok(())
    }

    /// Jobs that are neither deleted nor paused, by index.
    pub(super) fn active_jobs(&self) -> Vec<usize> {
        (0..self.jobs.len())
            .filter(|&j| {
                !self.jobs[j].deleted && self.jobs[j].segments.last().unwrap().end_ms.is_none()
            })
            .collect()
    }

    pub(super) fn live_job_count(&self) -> i64 {
        self.jobs.iter().filter(|j| !j.deleted).count() as i64
    }

    /// Owner counts restricted to the live replicas; `None` when some job has no live owner.
    pub(super) async fn live_owner_counts(&self) -> Option<BTreeMap<String, i64>> {
        let live: Vec<String> = self
            .live()
            .iter()
            .map(|&i| self.c.hosts[i].options.instance_id.clone())
            .collect();
        let counts = self.sql.owner_counts().await.ok()?;
        let on_live: i64 = counts
            .iter()
            .filter(|(o, _)| live.contains(o))
            .map(|(_, n)| n)
            .sum();
        (on_live == self.live_job_count()).then(|| {
            live.iter()
                .map(|id| (id.clone(), counts.get(id).copied().unwrap_or(0)))
                .collect()
        })
    }

    /// After a fault: every live replica is ready, every job is held by a live replica, and
    /// the live replicas hold the same number of jobs within one. `Err` (with the owners) when
    /// that does not happen within `within`.
    pub(super) async fn settle(&self, within: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let mut ready = true;
            for i in self.live() {
                ready &= self.c.hosts[i].status_of("/readyz").await == Some(200);
            }
            if ready
                && let Some(counts) = self.live_owner_counts().await
                && counts.values().max().unwrap_or(&0) - counts.values().min().unwrap_or(&0) <= 1
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > within {
                return Err(format!(
                    "the cluster did not settle within {within:?} (ready {ready}, owners {:?})",
                    self.sql.owner_counts().await,
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Copy every replica's log and the database servers' logs into the output directory.
    pub(super) fn save_logs(&self) {
        save_logs(&self.out, &self.logs.lock().unwrap());
        for (file, log) in self.db.logs() {
            let _ = std::fs::write(self.out.join(file), log);
        }
    }
}

pub(super) fn save_logs(out: &Path, logs: &[(String, PathBuf)]) {
    for (label, path) in logs {
        let _ = std::fs::copy(path, out.join(format!("{}.log", label.replace('#', "-"))));
    }
}

pub(super) fn sample_rss(procs: Procs, samples: Samples) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now: Vec<(String, u32, Instant)> = procs
                .lock()
                .unwrap()
                .iter()
                .map(|(l, (pid, since))| (l.clone(), *pid, *since))
                .collect();
            for (label, pid, since) in now {
                if let Some(kib) = rss_kib(pid) {
                    samples
                        .lock()
                        .unwrap()
                        .entry(label)
                        .or_default()
                        .push((since.elapsed().as_secs_f64(), kib));
                }
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}
