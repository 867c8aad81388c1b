//! The chaos run: a real PostgreSQL server, N replicas of the real binary and a loopback
//! collector; jobs of the `reporter` plugin fire every second and report each execution to
//! the collector over `wasi:http`, while faults chosen at random from one seed hit the
//! cluster. At the end the run checks that no tick ran twice, that every due tick is accounted
//! for, that the misfire policies held, that no replica's memory kept growing, that the
//! jobs are balanced over the replicas and that every accepted manual trigger ran. See
//! RELIABILITY.md.
//!
//! `cargo run --release -p wasmcron-e2e --bin chaos -- [--seed N] [--duration 120s]
//! [--replicas 3] [--jobs 60] [--min-gap 2s] [--max-gap 8s] [--out DIR]`
//!
//! The binary under test is `$WASMCRON_BIN`, else `target/debug/wasmcron`. Plugins come from
//! `$WASMCRON_TEST_PLUGINS` (only `reporter.wasm` is used, from a private copy that the
//! plugin hot-swap fault rewrites). The seed is printed first; the same seed replays the same
//! faults against the same victims with the same durations. Exits 1 when a check fails.

#[path = "../chaos/checks.rs"]
mod checks;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use wasmcron_e2e::collector::Collector;
use wasmcron_e2e::host::{Cluster, plugins_dir};
use wasmcron_e2e::pg::PgServer;

use checks::{JobHistory, Segment, Trigger};

/// Heartbeat and dead threshold of every replica (short, so that a run sees many faults).
const HEARTBEAT: &str = "1s";
const DEAD_AFTER_S: u64 = 5;
/// Grace period of a graceful stop.
const GRACE: &str = "10s";
/// How long after the last fault the cluster may take to settle (all jobs on live replicas,
/// balanced within one).
const SETTLE: Duration = Duration::from_secs(90);
/// Ticks this close to the end of the run are in flight and not yet judged.
const END_MARGIN_MS: i64 = 5_000;
/// A slow job works this long per run (longer than its one-second period).
const SLOW_MS: u64 = 1_500;
/// RSS: ignore the first seconds of a process; judge processes that lived this long.
const RSS_WARMUP_S: f64 = 20.0;
const RSS_MIN_LIFE_S: f64 = 60.0;

#[derive(Debug)]
struct Settings {
    seed: u64,
    duration: Duration,
    replicas: usize,
    jobs: usize,
    min_gap: Duration,
    max_gap: Duration,
    out: Option<PathBuf>,
}

fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(s).with_context(|| format!("{s:?} is not a duration such as 90s"))
}

impl Settings {
    fn from_args() -> anyhow::Result<Settings> {
        let mut s = Settings {
            seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos() as u64
                % 1_000_000_000,
            duration: Duration::from_secs(120),
            replicas: 3,
            jobs: 60,
            min_gap: Duration::from_secs(2),
            max_gap: Duration::from_secs(8),
            out: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let value = args
                .next()
                .with_context(|| format!("{arg} needs a value"))?;
            let what = || format!("{arg} {value}");
            match arg.as_str() {
                "--seed" => s.seed = value.parse().with_context(what)?,
                "--duration" => s.duration = parse_duration(&value)?,
                "--replicas" => s.replicas = value.parse().with_context(what)?,
                "--jobs" => s.jobs = value.parse().with_context(what)?,
                "--min-gap" => s.min_gap = parse_duration(&value)?,
                "--max-gap" => s.max_gap = parse_duration(&value)?,
                "--out" => s.out = Some(PathBuf::from(value)),
                other => bail!(
                    "unknown argument {other} (known: --seed --duration --replicas --jobs \
                     --min-gap --max-gap --out)"
                ),
            }
        }
        if s.replicas < 2 {
            bail!("--replicas {} must be at least 2", s.replicas);
        }
        if s.jobs < 10 {
            bail!("--jobs {} must be at least 10 (one of each kind)", s.jobs);
        }
        if s.max_gap < s.min_gap {
            bail!("--max-gap must not be below --min-gap");
        }
        Ok(s)
    }
}

/// The kinds of fault, dealt from a shuffled deck so that every kind comes once per round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Kill9,
    Stop,
    Restart,
    Scale,
    PgRestart,
    Skew,
    PluginSwap,
    Edit,
    Pause,
    Delete,
    Trigger,
}

const FAULTS: [Fault; 11] = [
    Fault::Kill9,
    Fault::Stop,
    Fault::Restart,
    Fault::Scale,
    Fault::PgRestart,
    Fault::Skew,
    Fault::PluginSwap,
    Fault::Edit,
    Fault::Pause,
    Fault::Delete,
    Fault::Trigger,
];

/// Job kinds: misfire policy, overlap policy, work per run.
const KINDS: [(&str, &str, Option<u64>); 10] = [
    ("run_once", "skip", None),
    ("run_once", "skip", None),
    ("run_once", "skip", None),
    ("run_once", "skip", None),
    ("run_all", "skip", None),
    ("run_all", "skip", None),
    ("skip", "skip", None),
    ("skip", "skip", None),
    ("run_once", "queue", None), // slow: the overlap kind rotates over skip/queue/allow
    ("run_once", "skip", None),
];

fn kind_of(i: usize) -> (&'static str, &'static str, Option<u64>) {
    let (misfire, overlap, _) = KINDS[i % 10];
    if i % 10 == 8 {
        let overlap = ["skip", "queue", "allow"][(i / 10) % 3];
        (misfire, overlap, Some(SLOW_MS))
    } else {
        (misfire, overlap, None)
    }
}

/// Timestamped event log: stdout and `events.log` in the output directory.
struct Log {
    start: Instant,
    file: Mutex<std::fs::File>,
}

impl Log {
    fn say(&self, msg: impl AsRef<str>) {
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
type Procs = Arc<Mutex<BTreeMap<String, (u32, Instant)>>>;
/// RSS samples: label → (seconds since start, KiB).
type Samples = Arc<Mutex<BTreeMap<String, Vec<(f64, u64)>>>>;

struct Chaos {
    s: Settings,
    rng: StdRng,
    log: Log,
    out: PathBuf,
    pg: PgServer,
    c: Cluster,
    collector: Collector,
    http: reqwest::Client,
    jobs: Vec<JobHistory>,
    procs: Procs,
    /// Log files of every replica started (for copying when the run ends, or panics).
    logs: Arc<Mutex<Vec<(String, PathBuf)>>>,
    next_replica: usize,
    next_job: usize,
    plugin_version: usize,
    faults: BTreeMap<Fault, usize>,
    /// Manual triggers the API accepted, and how many it refused (409: a run in progress).
    triggers: Vec<Trigger>,
    triggers_refused: usize,
}

fn with_custom_section(component: &[u8], name: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.push(name.len() as u8);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(b"chaos hot-swap");
    let mut out = component.to_vec();
    out.push(0); // custom section id
    let mut len = payload.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&payload);
    out
}

impl Chaos {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        items.choose(&mut self.rng).expect("a non-empty choice")
    }

    fn secs(&mut self, lo: f64, hi: f64) -> Duration {
        Duration::from_secs_f64(self.rng.random_range(lo..hi))
    }

    /// Indices of the running replicas.
    fn live(&self) -> Vec<usize> {
        (0..self.c.hosts.len())
            .filter(|&i| self.c.hosts[i].is_running())
            .collect()
    }

    fn label(&self, i: usize) -> String {
        format!("{}#{i}", self.c.hosts[i].options.instance_id)
    }

    async fn db_now(&self) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint")
                .fetch_one(&self.c.pool)
                .await?,
        )
    }

    /// Start replica `id` (optionally with a clock offset) and register it for sampling.
    async fn start_replica(&mut self, id: &str, offset: Option<&str>) -> usize {
        let mut options = self.c.options(id);
        if let Some(offset) = offset {
            options = options.clock_offset(offset);
        }
        let i = self.c.start_with(options).await;
        let label = self.label(i);
        self.procs
            .lock()
            .unwrap()
            .insert(label.clone(), (self.c.hosts[i].pid(), Instant::now()));
        self.logs
            .lock()
            .unwrap()
            .push((label, self.c.hosts[i].log_path()));
        i
    }

    fn forget(&self, i: usize) {
        self.procs.lock().unwrap().remove(&self.label(i));
    }

    /// One API call through the first live replica that answers.
    async fn api(&self, method: &str, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
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

    /// The job's row: (schedule, paused, anchor_ms, updated_at_ms).
    async fn job_row(&self, id: &str) -> anyhow::Result<(String, bool, i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT schedule, paused, anchor_ms, updated_at_ms FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.c.pool)
        .await?)
    }

    /// Create job number `n` (its kind follows from `n`); returns its id.
    async fn create_job(&mut self, n: usize, name: String) -> anyhow::Result<String> {
        let body = job_body(&self.collector, &name, n);
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
    async fn track_job(&mut self, n: usize, id: String, name: String) -> anyhow::Result<()> {
        let (misfire, overlap, sleep_ms) = kind_of(n);
        let (_, _, anchor, _) = self.job_row(&id).await?;
        self.jobs.push(JobHistory {
            id,
            name,
            misfire,
            overlap,
            slow: sleep_ms.is_some(),
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
    async fn create_jobs(&mut self) -> anyhow::Result<()> {
        let base = self.c.hosts[self.live()[0]].base.clone();
        let n = self.s.jobs;
        for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for &i in chunk {
                let request = self
                    .http
                    .post(format!("{base}/api/v1/jobs"))
                    .json(&job_body(&self.collector, &format!("job-{i:04}"), i))
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
    fn active_jobs(&self) -> Vec<usize> {
        (0..self.jobs.len())
            .filter(|&j| {
                !self.jobs[j].deleted && self.jobs[j].segments.last().unwrap().end_ms.is_none()
            })
            .collect()
    }

    fn live_job_count(&self) -> i64 {
        self.jobs.iter().filter(|j| !j.deleted).count() as i64
    }

    /// Owner counts restricted to the live replicas; `None` when some job has no live owner.
    async fn live_owner_counts(&self) -> Option<BTreeMap<String, i64>> {
        let live: Vec<String> = self
            .live()
            .iter()
            .map(|&i| self.c.hosts[i].options.instance_id.clone())
            .collect();
        let counts = self.c.owner_counts().await;
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
    async fn settle(&self, within: Duration) -> Result<Duration, String> {
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
                    self.c.owner_counts().await,
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn inject(&mut self, fault: Fault) -> anyhow::Result<()> {
        let live = self.live();
        match fault {
            Fault::Kill9 => {
                let i = *self.pick(&live);
                let down = self.secs(1.0, 6.0);
                let id = self.c.hosts[i].options.instance_id.clone();
                self.log
                    .say(format!("FAULT kill -9 {id}; restart after {down:.1?}"));
                self.forget(i);
                self.c.hosts[i].kill9();
                tokio::time::sleep(down).await;
                self.start_replica(&id, None).await;
                self.log.say(format!("  {id} restarted"));
            }
            Fault::Stop => {
                let i = *self.pick(&live);
                let pause = Duration::from_secs(DEAD_AFTER_S) + self.secs(1.0, 6.0);
                let id = self.c.hosts[i].options.instance_id.clone();
                self.log.say(format!(
                    "FAULT SIGSTOP {id} for {pause:.1?} (dead threshold {DEAD_AFTER_S} s)"
                ));
                self.c.hosts[i].sigstop();
                tokio::time::sleep(pause).await;
                self.c.hosts[i].sigcont();
                self.log.say(format!("  SIGCONT {id}"));
            }
            Fault::Restart => {
                let i = *self.pick(&live);
                let id = self.c.hosts[i].options.instance_id.clone();
                self.log.say(format!("FAULT graceful restart of {id}"));
                self.graceful_stop(i)?;
                self.start_replica(&id, None).await;
                self.log.say(format!("  {id} restarted"));
            }
            Fault::Scale => {
                let n = self.s.replicas;
                let up = if live.len() > n {
                    false
                } else if live.len() < n {
                    true
                } else {
                    self.rng.random_bool(0.5)
                };
                if up {
                    self.next_replica += 1;
                    let id = format!("r{}", self.next_replica);
                    self.log.say(format!(
                        "FAULT scale up: start {id} ({} live)",
                        live.len() + 1
                    ));
                    self.start_replica(&id, None).await;
                } else {
                    let i = *self.pick(&live);
                    let id = self.c.hosts[i].options.instance_id.clone();
                    self.log.say(format!(
                        "FAULT scale down: stop {id} gracefully ({} live)",
                        live.len() - 1
                    ));
                    self.graceful_stop(i)?;
                }
            }
            Fault::PgRestart => {
                let down = self.secs(1.0, 8.0);
                self.log
                    .say(format!("FAULT PostgreSQL restart, down for {down:.1?}"));
                self.pg.stop().context("stopping PostgreSQL")?;
                tokio::time::sleep(down).await;
                self.pg.resume().context("restarting PostgreSQL")?;
                self.log.say("  PostgreSQL is back");
            }
            Fault::Skew => {
                let i = *self.pick(&live);
                let id = self.c.hosts[i].options.instance_id.clone();
                let secs: i64 = self.rng.random_range(10..120);
                let offset = if self.rng.random_bool(0.5) {
                    format!("+{secs}s")
                } else {
                    format!("-{secs}s")
                };
                self.log.say(format!(
                    "FAULT skewed clock: restart {id} with its clock {offset}"
                ));
                self.graceful_stop(i)?;
                self.start_replica(&id, Some(&offset)).await;
            }
            Fault::PluginSwap => {
                self.plugin_version += 1;
                let name = format!("v{}", self.plugin_version);
                self.log
                    .say(format!("FAULT plugin hot-swap: reporter {name}"));
                let original = std::fs::read(plugins_dir().join("reporter.wasm"))?;
                let dir = &self.c.plugins;
                let tmp = dir.join(".reporter.wasm.tmp");
                std::fs::write(&tmp, with_custom_section(&original, &name))?;
                std::fs::rename(&tmp, dir.join("reporter.wasm"))?;
            }
            Fault::Edit => {
                let k = self.rng.random_range(1..=3);
                for _ in 0..k {
                    let active = self.active_jobs();
                    let j = *self.pick(&active);
                    let period = self.jobs[j].segments.last().unwrap().period_ms;
                    let new = if period == 1000 { 2000 } else { 1000 };
                    let (id, name) = (self.jobs[j].id.clone(), self.jobs[j].name.clone());
                    let schedule = format!("@every {}s", new / 1000);
                    self.log
                        .say(format!("FAULT edit job {name}: schedule {schedule}"));
                    let (status, body) = self
                        .api(
                            "PATCH",
                            &format!("/jobs/{id}"),
                            json!({"schedule": schedule}),
                        )
                        .await?;
                    if status != 200 {
                        bail!("PATCH {name}: {status} {body}");
                    }
                    let (row_schedule, _, anchor, updated) = self.job_row(&id).await?;
                    if row_schedule != schedule {
                        bail!("job {name} has schedule {row_schedule} after the edit");
                    }
                    let job = &mut self.jobs[j];
                    job.segments.last_mut().unwrap().end_ms = Some(updated);
                    job.segments.push(Segment {
                        period_ms: new,
                        start_ms: anchor,
                        end_ms: None,
                    });
                }
            }
            Fault::Pause => {
                let k = self.rng.random_range(1..=3);
                let mut active = self.active_jobs();
                active.shuffle(&mut self.rng);
                active.truncate(k);
                let pause = self.secs(2.0, 10.0);
                for &j in &active {
                    let (id, name) = (self.jobs[j].id.clone(), self.jobs[j].name.clone());
                    self.log
                        .say(format!("FAULT pause job {name} for {pause:.1?}"));
                    let (status, body) = self
                        .api("POST", &format!("/jobs/{id}/pause"), json!({}))
                        .await?;
                    if status != 200 {
                        bail!("pause {name}: {status} {body}");
                    }
                    let (_, paused, _, updated) = self.job_row(&id).await?;
                    if !paused {
                        bail!("job {name} is not paused after the pause");
                    }
                    self.jobs[j].segments.last_mut().unwrap().end_ms = Some(updated);
                }
                tokio::time::sleep(pause).await;
                for &j in &active {
                    let (id, name) = (self.jobs[j].id.clone(), self.jobs[j].name.clone());
                    self.log.say(format!("  resume job {name}"));
                    let (status, body) = self
                        .api("POST", &format!("/jobs/{id}/resume"), json!({}))
                        .await?;
                    if status != 200 {
                        bail!("resume {name}: {status} {body}");
                    }
                    let (schedule, paused, anchor, _) = self.job_row(&id).await?;
                    if paused {
                        bail!("job {name} is still paused after the resume");
                    }
                    let period = if schedule == "@every 2s" { 2000 } else { 1000 };
                    self.jobs[j].segments.push(Segment {
                        period_ms: period,
                        start_ms: anchor,
                        end_ms: None,
                    });
                }
            }
            Fault::Trigger => {
                let k = self.rng.random_range(1..=3);
                let mut active = self.active_jobs();
                active.shuffle(&mut self.rng);
                active.truncate(k);
                for &j in &active {
                    let (id, name) = (self.jobs[j].id.clone(), self.jobs[j].name.clone());
                    let via = *self.pick(&live);
                    let replica = self.c.hosts[via].options.instance_id.clone();
                    let url = format!("{}/api/v1/jobs/{id}/trigger", self.c.hosts[via].base);
                    let answer = self
                        .http
                        .post(&url)
                        .timeout(Duration::from_secs(15))
                        .send()
                        .await
                        .with_context(|| format!("trigger {name} through {replica}"))?;
                    let status = answer.status().as_u16();
                    let body: Value = answer.json().await.unwrap_or(Value::Null);
                    match status {
                        202 => {
                            let at = body["scheduled_at"].as_str().unwrap_or_default();
                            let tick_ms = chrono::DateTime::parse_from_rfc3339(at)
                                .with_context(|| format!("trigger {name}: {body}"))?
                                .timestamp_millis();
                            self.log.say(format!(
                                "FAULT trigger job {name} ({}) through {replica}: manual tick {tick_ms}",
                                self.jobs[j].kind()
                            ));
                            self.triggers.push(Trigger {
                                job_id: id,
                                name,
                                tick_ms,
                            });
                        }
                        409 => {
                            self.log.say(format!(
                                "FAULT trigger job {name} through {replica}: refused, a run is in progress"
                            ));
                            self.triggers_refused += 1;
                        }
                        other => bail!("trigger {name}: {other} {body}"),
                    }
                }
            }
            Fault::Delete => {
                let k = self.rng.random_range(1..=3);
                for _ in 0..k {
                    let alive: Vec<usize> = (0..self.jobs.len())
                        .filter(|&j| !self.jobs[j].deleted)
                        .collect();
                    let j = *self.pick(&alive);
                    let (id, name) = (self.jobs[j].id.clone(), self.jobs[j].name.clone());
                    let n = self.next_job;
                    self.next_job += 1;
                    let new_name = format!("job-{n:04}");
                    self.log
                        .say(format!("FAULT delete job {name}, create {new_name}"));
                    let (status, body) = self
                        .api("DELETE", &format!("/jobs/{id}"), json!({}))
                        .await?;
                    if status != 204 && status != 200 {
                        bail!("DELETE {name}: {status} {body}");
                    }
                    self.jobs[j].deleted = true;
                    self.create_job(n, new_name).await?;
                }
            }
        }
        *self.faults.entry(fault).or_default() += 1;
        Ok(())
    }

    fn graceful_stop(&mut self, i: usize) -> anyhow::Result<()> {
        self.forget(i);
        let status = self.c.hosts[i].stop(Duration::from_secs(40));
        if !status.success() {
            bail!(
                "{} exited with {status:?} after SIGTERM",
                self.c.hosts[i].options.instance_id
            );
        }
        Ok(())
    }

    /// Copy every replica's log and PostgreSQL's log into the output directory.
    fn save_logs(&self) {
        save_logs(&self.out, &self.logs.lock().unwrap());
        let _ = std::fs::write(self.out.join("postgres.log"), self.pg.log());
    }
}

fn save_logs(out: &Path, logs: &[(String, PathBuf)]) {
    for (label, path) in logs {
        let _ = std::fs::copy(path, out.join(format!("{}.log", label.replace('#', "-"))));
    }
}

fn job_body(collector: &Collector, name: &str, n: usize) -> Value {
    let (misfire, overlap, sleep_ms) = kind_of(n);
    let mut input = json!({"collector": collector.url()});
    if let Some(ms) = sleep_ms {
        input["sleep_ms"] = json!(ms);
    }
    json!({
        "name": name,
        "schedule": "@every 1s",
        "plugin": "reporter",
        "input": input,
        "misfire": misfire,
        "overlap": overlap,
        "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
    })
}

fn sample_rss(procs: Procs, samples: Samples) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let now: Vec<(String, u32, Instant)> = procs
                .lock()
                .unwrap()
                .iter()
                .map(|(l, (pid, since))| (l.clone(), *pid, *since))
                .collect();
            for (label, pid, since) in now {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
                let kib = status.ok().and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.split_whitespace().next())
                        .and_then(|v| v.parse::<u64>().ok())
                });
                if let Some(kib) = kib {
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let s = match Settings::from_args() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaos: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    println!("chaos: seed {}", s.seed);
    match run(s).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            println!("chaos: run aborted: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(s: Settings) -> anyhow::Result<bool> {
    let out = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/chaos-{}", s.seed)));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let log = Log {
        start: Instant::now(),
        file: Mutex::new(std::fs::File::create(out.join("events.log"))?),
    };
    let binary = wasmcron_e2e::host::binary();
    log.say(format!(
        "seed {} duration {:?} replicas {} jobs {} gaps {:?}..{:?} binary {} output {}",
        s.seed,
        s.duration,
        s.replicas,
        s.jobs,
        s.min_gap,
        s.max_gap,
        binary.display(),
        out.display()
    ));

    let pg = PgServer::start().context("starting PostgreSQL")?;
    let db = pg.create_database("chaos")?;
    let args = [
        "--heartbeat-interval",
        HEARTBEAT,
        "--dead-after",
        &format!("{DEAD_AFTER_S}s"),
        "--grace-period",
        GRACE,
    ];
    let mut c = Cluster::new(&db, &args).await;
    // A private plugins directory with only the reporter (the hot-swap fault rewrites it).
    let plugins = tempfile::Builder::new()
        .prefix("chaos-plugins-")
        .tempdir()?;
    std::fs::copy(
        plugins_dir().join("reporter.wasm"),
        plugins.path().join("reporter.wasm"),
    )
    .context("copying reporter.wasm")?;
    c.plugins = plugins.path().to_path_buf();
    c.binary = Some(binary);

    let logs: Arc<Mutex<Vec<(String, PathBuf)>>> = Arc::default();
    {
        // Keep the replicas' logs when the harness panics (a replica that does not start).
        let logs = logs.clone();
        let out = out.clone();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(logs) = logs.try_lock() {
                save_logs(&out, &logs);
            }
            default(info);
        }));
    }
    let procs: Procs = Arc::default();
    let samples: Samples = Arc::default();
    let sampler = sample_rss(procs.clone(), samples.clone());
    let seed = s.seed;
    let mut chaos = Chaos {
        rng: StdRng::seed_from_u64(seed),
        log,
        out,
        pg,
        c,
        collector: Collector::start().await,
        http: reqwest::Client::new(),
        jobs: Vec::new(),
        procs,
        logs,
        next_replica: s.replicas,
        next_job: 0,
        plugin_version: 0,
        faults: BTreeMap::new(),
        triggers: Vec::new(),
        triggers_refused: 0,
        s,
    };
    let result = chaos_run(&mut chaos, samples).await;
    sampler.abort();
    chaos.save_logs();
    match result {
        Ok(passed) => Ok(passed),
        Err(e) => {
            chaos.log.say(format!("run aborted: {e:#}"));
            Err(e)
        }
    }
}

async fn chaos_run(ch: &mut Chaos, samples: Samples) -> anyhow::Result<bool> {
    for k in 1..=ch.s.replicas {
        ch.start_replica(&format!("r{k}"), None).await;
    }
    ch.log.say(format!("{} replicas ready", ch.s.replicas));
    ch.create_jobs().await?;
    ch.log.say(format!("{} jobs created", ch.s.jobs));
    let settled = ch.settle(SETTLE).await.map_err(anyhow::Error::msg)?;
    ch.log
        .say(format!("jobs claimed and balanced in {settled:.1?}"));
    let mut unsettled = Vec::new();

    // Faults, one at a time, until the duration is spent.
    let faults_start = Instant::now();
    let mut deck: Vec<Fault> = Vec::new();
    while faults_start.elapsed() < ch.s.duration {
        let gap = ch.secs(
            ch.s.min_gap.as_secs_f64(),
            ch.s.max_gap.as_secs_f64() + 0.001,
        );
        tokio::time::sleep(gap).await;
        if faults_start.elapsed() >= ch.s.duration {
            break;
        }
        if deck.is_empty() {
            deck = FAULTS.to_vec();
            deck.shuffle(&mut ch.rng);
        }
        let fault = deck.pop().unwrap();
        ch.inject(fault).await?;
        match ch.settle(SETTLE).await {
            Ok(took) => ch.log.say(format!("  settled (balanced) in {took:.1?}")),
            Err(e) => {
                ch.log.say(format!("  {e}"));
                unsettled.push(format!("after {fault:?}: {e}"));
            }
        }
    }
    ch.log.say(format!("faults stop: {:?}", ch.faults));

    // (5) Ownership balanced within one over the live replicas.
    let mut balance = checks::Outcome {
        name: "5 ownership balanced within one",
        ..Default::default()
    };
    let start = Instant::now();
    let counts = loop {
        let counts = ch.live_owner_counts().await;
        if let Some(counts) = &counts {
            let max = counts.values().max().copied().unwrap_or(0);
            let min = counts.values().min().copied().unwrap_or(0);
            if max - min <= 1 {
                break counts.clone();
            }
        }
        if start.elapsed() > SETTLE {
            balance.violations.push(format!(
                "not balanced within {SETTLE:?}: {:?}",
                ch.c.owner_counts().await
            ));
            break counts.unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    balance.figure(
        "balanced after the last fault",
        format!("{:.1?}", start.elapsed()),
    );
    balance.figure(
        "faults after which the cluster did not settle",
        unsettled.len(),
    );
    balance.violations.extend(unsettled);
    balance.figure("final owners", format!("{counts:?}"));

    // Let the ticks up to the cut-off land, then judge.
    tokio::time::sleep(Duration::from_millis(END_MARGIN_MS as u64 + 1000)).await;
    let cutoff = ch.db_now().await? - END_MARGIN_MS;
    let wait = Instant::now();
    let runs = loop {
        let runs = ch.c.runs().await;
        let (acc, _) = checks::accounting(&runs, &ch.jobs, cutoff);
        if acc.passed() || wait.elapsed() > Duration::from_secs(30) {
            break runs;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    };
    let reports = ch.collector.reports_with_attempts();
    let samples = samples.lock().unwrap().clone();

    let first = checks::executions(&reports, &runs, &ch.jobs, cutoff);
    let (second, third) = checks::accounting(&runs, &ch.jobs, cutoff);
    let fourth = checks::rss(&samples, RSS_WARMUP_S, RSS_MIN_LIFE_S);
    let mut sixth = checks::triggers(&ch.triggers, &runs, &ch.jobs, cutoff);
    sixth.figure(
        "triggers refused (409, a run in progress)",
        ch.triggers_refused,
    );
    let outcomes = [first, second, third, fourth, balance, sixth];

    let mut report = String::new();
    report += &format!(
        "seed {} duration {:?} replicas {} jobs {} (live at the end {}, deleted {})\n",
        ch.s.seed,
        ch.s.duration,
        ch.s.replicas,
        ch.s.jobs,
        ch.live_job_count(),
        ch.jobs.iter().filter(|j| j.deleted).count()
    );
    report += &format!(
        "faults injected: {} ({:?})\n",
        ch.faults.values().sum::<usize>(),
        ch.faults
    );
    for o in &outcomes {
        report += &o.render(50);
    }
    let passed = outcomes.iter().all(|o| o.passed());
    report += &format!("chaos: {}\n", if passed { "PASSED" } else { "FAILED" });
    for line in report.lines() {
        ch.log.say(line);
    }
    std::fs::write(ch.out.join("summary.txt"), &report)?;
    Ok(passed)
}
