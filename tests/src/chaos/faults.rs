//! The kinds of job a chaos run runs, and how each fault is done (the network faults in
//! `network`).

use std::time::Duration;

use anyhow::{Context, bail};
use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use super::deck::Fault;
use super::runner::Chaos;
use super::settings::{DEAD_AFTER_S, RETRY_ATTEMPTS, RETRY_BACKOFF, RETRY_MAX_BACKOFF, SLOW_MS};
use super::{Retry, Segment, Trigger};
use crate::built::{plugin, with_marker};
use crate::collector::Collector;

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

pub(super) fn kind_of(i: usize) -> (&'static str, &'static str, Option<u64>) {
    let (misfire, overlap, _) = KINDS[i % 10];
    if i % 10 == 8 {
        let overlap = ["skip", "queue", "allow"][(i / 10) % 3];
        (misfire, overlap, Some(SLOW_MS))
    } else {
        (misfire, overlap, None)
    }
}

/// Whether job number `n` of the run of `seed` retries, and how its attempts fare: about one
/// job in five, of any kind, with 3 attempts, whose attempts below 2, below 3 or below 4 (all
/// of them) fail. The same seed gives the same jobs.
pub(super) fn retry_of(seed: u64, n: usize) -> Option<Retry> {
    // SplitMix64 of the seed and the job number: spread over the kinds, whatever the seed.
    let mut z = seed
        .wrapping_add((n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z.is_multiple_of(5).then(|| Retry {
        attempts: RETRY_ATTEMPTS,
        fail_below: 2 + ((z / 5) % 3) as i64,
    })
}

/// The body that creates job number `n` (its kind from `n`, its retry policy `retry`).
pub(super) fn job_body(collector: &Collector, name: &str, n: usize, retry: Option<Retry>) -> Value {
    let (misfire, overlap, sleep_ms) = kind_of(n);
    let url = match retry {
        Some(r) => collector.url_failing_below(r.fail_below),
        None => collector.url(),
    };
    let mut input = json!({"collector": url});
    if let Some(ms) = sleep_ms {
        input["sleep_ms"] = json!(ms);
    }
    let mut body = json!({
        "name": name,
        "schedule": "@every 1s",
        "plugin": "reporter",
        "input": input,
        "misfire": misfire,
        "overlap": overlap,
        "allowed_hosts": [format!("127.0.0.1:{}", collector.port)],
    });
    if let Some(r) = retry {
        body["retry"] = json!({
            "attempts": r.attempts,
            "backoff": RETRY_BACKOFF,
            "max_backoff": RETRY_MAX_BACKOFF,
        });
    }
    body
}

impl Chaos {
    pub(super) async fn inject(&mut self, fault: Fault) -> anyhow::Result<()> {
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
                self.start_replica(&id, None).await?;
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
                self.start_replica(&id, None).await?;
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
                    self.start_replica(&id, None).await?;
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
            Fault::DbRestart => {
                let down = self.secs(1.0, 8.0);
                let server = self.db.engine().server_name();
                self.log
                    .say(format!("FAULT {server} restart, down for {down:.1?}"));
                self.db
                    .stop()
                    .with_context(|| format!("stopping {server}"))?;
                tokio::time::sleep(down).await;
                self.db
                    .resume()
                    .with_context(|| format!("restarting {server}"))?;
                self.log.say(format!("  {server} is back"));
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
                self.start_replica(&id, Some(&offset)).await?;
            }
            Fault::PluginSwap => {
                self.plugin_version += 1;
                let name = format!("v{}", self.plugin_version);
                self.log
                    .say(format!("FAULT plugin hot-swap: reporter {name}"));
                let original = plugin("reporter");
                let dir = &self.c.plugins;
                let tmp = dir.join(".reporter.wasm.tmp");
                std::fs::write(
                    &tmp,
                    with_marker(&original, &format!("chaos hot-swap {name}")),
                )?;
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
                    let row = self.job_row(&id).await?;
                    if row.schedule != schedule {
                        bail!("job {name} has schedule {} after the edit", row.schedule);
                    }
                    let job = &mut self.jobs[j];
                    job.segments.last_mut().unwrap().end_ms = Some(row.updated_at_ms);
                    job.segments.push(Segment {
                        period_ms: new,
                        start_ms: row.anchor_ms,
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
                    let row = self.job_row(&id).await?;
                    if !row.paused {
                        bail!("job {name} is not paused after the pause");
                    }
                    self.jobs[j].segments.last_mut().unwrap().end_ms = Some(row.updated_at_ms);
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
                    let row = self.job_row(&id).await?;
                    if row.paused {
                        bail!("job {name} is still paused after the resume");
                    }
                    let period = if row.schedule == "@every 2s" {
                        2000
                    } else {
                        1000
                    };
                    self.jobs[j].segments.push(Segment {
                        period_ms: period,
                        start_ms: row.anchor_ms,
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
            Fault::Blackhole => self.blackhole().await,
            Fault::Latency => self.latency().await,
            Fault::Reset => self.reset().await,
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

    pub(super) fn graceful_stop(&mut self, i: usize) -> anyhow::Result<()> {
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
}
