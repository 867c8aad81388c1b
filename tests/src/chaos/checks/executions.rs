//! Checks 1 and 7: each execution reported to the collector, by its identity `(job, tick,
//! attempt)`, against the runs table; and each tick's attempts, in the runs table and at the
//! collector, against its job's retry policy.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Outcome, RunRow, is_run};
use crate::chaos::history::{BOUNDARY_MS, JobHistory};
use crate::collector::Execution;

/// Check 1: no `(job, tick, attempt)` executed twice at the collector; every execution of a
/// live job up to `cutoff` that was reported before the runs table was read (the first
/// `read_before` reports: a run's row is written before the run starts) has the run record of
/// its attempt, written by the replica that executed it.
pub fn executions(
    reports: &[(Execution, i64)],
    read_before: usize,
    runs: &[RunRow],
    jobs: &[JobHistory],
    cutoff: i64,
) -> Outcome {
    let mut out = Outcome::new("1 no (job, tick, attempt) executed twice");
    let names: HashMap<&str, &str> = jobs
        .iter()
        .map(|j| (j.id.as_str(), j.name.as_str()))
        .collect();
    let name = |job: &str| names.get(job).copied().unwrap_or("?");
    let mut by_attempt: HashMap<(&str, i64, i64), Vec<&str>> = HashMap::new();
    for (e, attempt) in reports {
        by_attempt
            .entry((e.job_id.as_str(), e.scheduled_at, *attempt))
            .or_default()
            .push(e.instance_id.as_str());
    }
    let mut dups: Vec<_> = by_attempt.iter().filter(|(_, v)| v.len() > 1).collect();
    dups.sort();
    for ((job, tick, attempt), by) in &dups {
        out.violations.push(format!(
            "job {} ({job}) tick {tick} attempt {attempt} executed {} times, by {by:?}",
            name(job),
            by.len()
        ));
    }
    let live: HashSet<&str> = jobs
        .iter()
        .filter(|j| !j.deleted)
        .map(|j| j.id.as_str())
        .collect();
    let recorded: HashMap<(&str, i64, i64), &RunRow> = runs
        .iter()
        .map(|r| ((r.job_id.as_str(), r.scheduled_at_ms, r.attempt), r))
        .collect();
    let judged = &reports[..read_before.min(reports.len())];
    let mut unrecorded = 0;
    for (e, attempt) in judged {
        if !live.contains(e.job_id.as_str()) || e.scheduled_at > cutoff {
            continue;
        }
        match recorded.get(&(e.job_id.as_str(), e.scheduled_at, *attempt)) {
            None => {
                unrecorded += 1;
                out.violations.push(format!(
                    "job {} tick {} attempt {attempt} executed by {} has no run record",
                    name(&e.job_id),
                    e.scheduled_at,
                    e.instance_id
                ));
            }
            Some(r) if !is_run(&r.status) || r.instance_id.as_deref() != Some(&e.instance_id) => {
                unrecorded += 1;
                out.violations.push(format!(
                    "job {} tick {} attempt {attempt} executed by {} but recorded {} by {:?}",
                    name(&e.job_id),
                    e.scheduled_at,
                    e.instance_id,
                    r.status,
                    r.instance_id
                ));
            }
            Some(_) => {}
        }
    }
    let ticks: HashSet<(&str, i64)> = by_attempt.keys().map(|(j, t, _)| (*j, *t)).collect();
    out.figure("executions reported", reports.len());
    out.figure("distinct (job, tick) executed", ticks.len());
    out.figure("distinct (job, tick, attempt) executed", by_attempt.len());
    out.figure("duplicates", dups.len());
    out.figure(
        "executions of retries (attempt > 1)",
        reports.iter().filter(|(_, a)| *a > 1).count(),
    );
    out.figure("reported before the runs table was read", judged.len());
    out.figure(
        "executions of live jobs without a matching run record (per attempt)",
        unrecorded,
    );
    out
}

/// How long after a failed attempt began its next one may still come: the slow run itself,
/// the backoff (1 s, then 2 s), and slack for records that crawl through a slow database.
const RETRY_SPAN_MS: i64 = 15_000;

/// How a tick of a job that retries ended so far, for the figures of check 7.
fn ending(last: &RunRow, attempts: i64) -> String {
    match last.status.as_str() {
        "succeeded" => format!("succeeded on attempt {}", last.attempt),
        "failed" | "timed_out" if last.attempt == attempts => "failed every attempt".into(),
        "failed" if last.reason.as_deref() == Some("abandoned") => {
            "abandoned (its replica lost the job; not retried)".into()
        }
        "failed" | "timed_out" => "failed with attempts left (next one pending or dropped)".into(),
        "running" => "running at the end".into(),
        _ => "not run (missed or skipped)".into(),
    }
}

/// Whether the next attempt of a tick whose last attempt (`last`) failed with attempts left
/// may be missing without a retry being lost: still to come at `cutoff`, dropped by a pause or
/// an edit of its job (which drop planned attempts), or dropped because it came due late
/// under misfire `skip`.
///
/// The time that counts is when the failed attempt began, not the tick's instant: the next
/// attempt is due a backoff after the failure, and a tick's attempts may begin long after
/// its instant (a catch-up behind a `run_all` backlog, a tick queued behind a slow run).
fn next_attempt_may_be_missing(job: &JobHistory, last: &RunRow, cutoff: i64) -> bool {
    let tick = last.scheduled_at_ms;
    let began = last.recorded_at_ms.map_or(tick, |at| at.max(tick));
    job.misfire == "skip"
        || began > cutoff - RETRY_SPAN_MS
        || job
            .segments
            .iter()
            .filter_map(|s| s.end_ms)
            .any(|end| (end - RETRY_SPAN_MS..=end + BOUNDARY_MS).contains(&began))
}

/// Check 7: every tick of a live job, in the runs table, has attempts numbered 1, 2, … without
/// a gap, no more than its job's `attempts`, each but the last failed or timed out (only a
/// failure is retried), and none succeeded that the collector failed on purpose; a tick up to
/// `cutoff` whose last attempt failed (not abandoned) with attempts left has its next one,
/// unless [`next_attempt_may_be_missing`]; and no execution reported an attempt outside
/// `1..=attempts`.
pub fn attempts(
    reports: &[(Execution, i64)],
    runs: &[RunRow],
    jobs: &[JobHistory],
    cutoff: i64,
) -> Outcome {
    let mut out = Outcome::new("7 retries within each job's attempts, numbered from 1");
    let by_id: HashMap<&str, &JobHistory> = jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    let mut by_tick: BTreeMap<(&str, i64), Vec<&RunRow>> = BTreeMap::new();
    for r in runs {
        by_tick
            .entry((r.job_id.as_str(), r.scheduled_at_ms))
            .or_default()
            .push(r);
    }
    let (mut retried, mut most) = (0, 0);
    let mut endings: BTreeMap<String, u64> = BTreeMap::new();
    for ((job_id, tick), rows) in &mut by_tick {
        let Some(job) = by_id.get(job_id).filter(|j| !j.deleted) else {
            continue;
        };
        rows.sort_by_key(|r| r.attempt);
        let numbers: Vec<i64> = rows.iter().map(|r| r.attempt).collect();
        let n = numbers.len() as i64;
        if numbers != (1..=n).collect::<Vec<_>>() {
            out.violations.push(format!(
                "job {} tick {tick}: attempts {numbers:?} are not numbered from 1 without a gap",
                job.name
            ));
        }
        if n > job.attempts() {
            out.violations.push(format!(
                "job {} ({}) tick {tick}: tried {n} times, at most {} allowed",
                job.name,
                job.kind(),
                job.attempts()
            ));
        }
        for r in &rows[..rows.len() - 1] {
            if !matches!(r.status.as_str(), "failed" | "timed_out") {
                out.violations.push(format!(
                    "job {} tick {tick}: attempt {} {} and yet tried again",
                    job.name, r.attempt, r.status
                ));
            }
        }
        if n > 1 {
            retried += 1;
        }
        most = most.max(n);
        if let Some(retry) = job.retry {
            for r in rows.iter() {
                if r.status == "succeeded" && r.attempt < retry.fail_below {
                    out.violations.push(format!(
                        "job {} tick {tick}: attempt {} succeeded, but the collector failed it",
                        job.name, r.attempt
                    ));
                }
            }
            let last = rows[rows.len() - 1];
            let key = format!(
                "ticks of jobs failing below {}: {}",
                retry.fail_below,
                ending(last, retry.attempts)
            );
            *endings.entry(key).or_default() += 1;
            if matches!(last.status.as_str(), "failed" | "timed_out")
                && last.reason.is_none()
                && last.attempt < retry.attempts
                && !next_attempt_may_be_missing(job, last, cutoff)
            {
                out.violations.push(format!(
                    "job {} ({}) tick {tick}: attempt {} {}, and attempt {} never came",
                    job.name,
                    job.kind(),
                    last.attempt,
                    last.status,
                    last.attempt + 1
                ));
            }
        }
    }
    let mut outside = 0;
    for (e, attempt) in reports {
        let Some(job) = by_id.get(e.job_id.as_str()) else {
            continue;
        };
        if !(1..=job.attempts()).contains(attempt) {
            outside += 1;
            out.violations.push(format!(
                "job {} tick {}: executed attempt {attempt} (at most {} allowed)",
                job.name,
                e.scheduled_at,
                job.attempts()
            ));
        }
    }
    out.figure(
        "jobs that retry (live, deleted)",
        format!(
            "{}, {}",
            jobs.iter()
                .filter(|j| j.retry.is_some() && !j.deleted)
                .count(),
            jobs.iter()
                .filter(|j| j.retry.is_some() && j.deleted)
                .count()
        ),
    );
    out.figure("ticks tried more than once", retried);
    out.figure("most attempts of one tick", most);
    for (ending, n) in endings {
        out.figure(&ending, n);
    }
    out.figure("executions of an attempt outside 1..=attempts", outside);
    out
}
