//! The end-of-run checks of the chaos runner, as pure functions over what the collector saw,
//! what the runs table holds, and what the runner did to each job.
//!
//! The identity of an execution is `(job, tick, attempt)`: a failed or timed-out run of a job
//! with a retry policy is tried again as a new row of the same tick, attempt 2, 3, …
//!
//! 1. No `(job, tick, attempt)` executed twice at the collector; every execution of a live job
//!    has the run record of its attempt, written by the replica that executed it (see
//!    [`executions`]).
//! 2. Every tick that was due is in the runs table: run (`running`, `succeeded`, `failed`,
//!    `timed_out`), `missed` or `skipped`, the latter two with a reason. A tick is accounted for
//!    by its first attempt's row and counted by how its last attempt ended: the rows of its
//!    retries are not ticks (a tick whose last attempt failed and whose next one is still to
//!    come at the end is a failed tick so far). The store writes one row per tick (per
//!    attempt) and nothing else: the "unlisted" missed ticks of a catch-up longer than
//!    `MAX_LISTED_MISSED` (10 000) ticks are only logged and counted in metrics, never written,
//!    so a tick is accounted for only by its own row. No outage of a chaos run comes near
//!    10 000 ticks; an absent tick is a violation whatever the reason.
//! 3. The misfire policy held: `run_all` jobs have no missed tick; for `run_once` every block of
//!    consecutive missed ticks is closed by exactly the catch-up run of the next tick
//!    (`catch_up = true`), which is what one catch-up planning does (all due ticks older than
//!    the misfire grace but the latest are missed, the latest runs; ticks recorded already,
//!    such as the previous owner's runs, skips and missed ticks, are planned around and may
//!    lie among the missed ones, which then have one record time, and between the last missed
//!    one and the catch-up run; a catch-up that its planner never recorded is missed by the
//!    next planning, whose block then needs its own catch-up); `skip` jobs have no catch-up
//!    run. Missed ticks are missed for `misfire`
//!    (the one-hour catch-up window is never exceeded), skipped ticks for `overlap` (or for
//!    `edited`: waiting to run when an edit or a resume moved the anchor past them), and an
//!    `allow` job skips nothing.
//! 4. RSS of each replica process does not keep growing (see [`rss`]).
//! 6. Every manual trigger the API accepted (202) for a job that was not deleted ran: its
//!    tick has a run record (see [`triggers`]). Manual ticks are off the schedule: checks 2
//!    and 3 leave their rows out, checks 1 and 7 count them like any other.
//! 7. Retries stay within each job's policy: every tick's attempts in the runs table are
//!    numbered 1, 2, … without a gap, no more than its job's `attempts`, each but the last
//!    failed or timed out; no attempt the collector failed on purpose is recorded succeeded;
//!    a tick whose last attempt failed with attempts left has its next one unless that may
//!    still come or was dropped as documented (a pause or an edit, misfire `skip`); no
//!    execution reports an attempt outside `1..=attempts` (see [`attempts`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::history::{BOUNDARY_MS, JobHistory, Trigger, ticks};
use super::outcome::Outcome;
use crate::cluster::RunRow;

mod executions;

pub use executions::{attempts, executions};

/// One tick's rows in the runs table: its first attempt's (how the tick was planned, and
/// whether it ran: the tick's own row) and its last attempt's (how the tick ended so far); the
/// same row when the tick was not retried.
#[derive(Debug, Clone, Copy)]
struct TickRows<'a> {
    first: &'a RunRow,
    last: &'a RunRow,
}

/// The runs table by tick identity `(job id, scheduled instant)`: the retries of a tick are
/// not ticks of their own.
fn rows_by_tick(runs: &[RunRow]) -> HashMap<(&str, i64), TickRows<'_>> {
    let mut ticks: HashMap<(&str, i64), TickRows<'_>> = HashMap::new();
    for r in runs {
        ticks
            .entry((r.job_id.as_str(), r.scheduled_at_ms))
            .and_modify(|t| {
                if r.attempt < t.first.attempt {
                    t.first = r;
                }
                if r.attempt > t.last.attempt {
                    t.last = r;
                }
            })
            .or_insert(TickRows { first: r, last: r });
    }
    ticks
}

fn is_run(status: &str) -> bool {
    matches!(status, "running" | "succeeded" | "failed" | "timed_out")
}

/// Each live job's expected ticks up to `cutoff`: tick → required (false: within
/// [`BOUNDARY_MS`] of a change, may be absent or present).
fn expected_ticks(job: &JobHistory, cutoff: i64) -> BTreeMap<i64, bool> {
    let mut expected: BTreeMap<i64, bool> = BTreeMap::new();
    for seg in &job.segments {
        match seg.end_ms {
            None => {
                for t in ticks(seg.period_ms, seg.start_ms, cutoff) {
                    expected.insert(t, true);
                }
            }
            Some(end) => {
                for t in ticks(seg.period_ms, seg.start_ms, (end + BOUNDARY_MS).min(cutoff)) {
                    let required = t <= end - BOUNDARY_MS;
                    *expected.entry(t).or_insert(false) |= required;
                }
            }
        }
    }
    expected
}

/// Checks 2 and 3 over the runs table, up to `cutoff` (database clock).
pub fn accounting(runs: &[RunRow], jobs: &[JobHistory], cutoff: i64) -> (Outcome, Outcome) {
    let mut acc = Outcome::new("2 every due tick accounted for");
    let mut pol = Outcome::new("3 misfire and overlap policies held");
    let mut by_job: HashMap<&str, BTreeMap<i64, TickRows<'_>>> = HashMap::new();
    for ((job, tick), rows) in rows_by_tick(runs) {
        by_job.entry(job).or_default().insert(tick, rows);
    }
    let empty = BTreeMap::new();
    let mut due = 0u64;
    let mut boundary_present = 0u64;
    let mut boundary_absent = 0u64;
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut retried = 0u64;
    // Per misfire policy: (missed, blocks, longest block, catch-up runs).
    let mut per_policy: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new();
    for job in jobs.iter().filter(|j| !j.deleted) {
        let rows = by_job.get(job.id.as_str()).unwrap_or(&empty);
        let expected = expected_ticks(job, cutoff);
        for (&t, &required) in &expected {
            match (rows.get(&t), required) {
                (Some(_), true) => due += 1,
                (None, true) => {
                    due += 1;
                    acc.violations.push(format!(
                        "job {} ({}, {}) tick {t}: due and absent from the runs table",
                        job.name,
                        job.id,
                        job.kind()
                    ));
                }
                (Some(_), false) => boundary_present += 1,
                (None, false) => boundary_absent += 1,
            }
        }
        // Manual ticks are off the schedule (check 6 looks at them). A tick is judged by its
        // first attempt's row, and counted by how its last attempt ended.
        let in_range: Vec<&RunRow> = rows
            .range(..=cutoff)
            .map(|(_, t)| t.first)
            .filter(|r| !r.manual)
            .collect();
        for t in rows.range(..=cutoff).map(|(_, t)| t.last) {
            if t.manual {
                continue;
            }
            let key = match &t.reason {
                Some(reason) => format!("{} ({reason})", t.status),
                None => t.status.clone(),
            };
            *by_status.entry(key).or_default() += 1;
            retried += u64::from(t.attempt > 1);
        }
        for r in &in_range {
            if !expected.contains_key(&r.scheduled_at_ms) {
                acc.violations.push(format!(
                    "job {} tick {}: recorded {} but not due (paused, deleted or off-schedule)",
                    job.name, r.scheduled_at_ms, r.status
                ));
            }
            if matches!(r.status.as_str(), "missed" | "skipped")
                && r.reason.as_deref().is_none_or(str::is_empty)
            {
                acc.violations.push(format!(
                    "job {} tick {}: {} without a reason",
                    job.name, r.scheduled_at_ms, r.status
                ));
            }
            // A tick waiting to run (queued, or in a catch-up) when an edit or a resume moved
            // the anchor past it is recorded skipped for `edited`: only before such a change.
            let edited_after = |tick: i64| {
                job.segments
                    .iter()
                    .any(|s| s.end_ms.is_some_and(|end| end >= tick))
            };
            match (r.status.as_str(), r.reason.as_deref()) {
                ("missed", Some("misfire")) | ("skipped", Some("overlap")) => {}
                ("skipped", Some("edited")) if edited_after(r.scheduled_at_ms) => {}
                ("missed" | "skipped", reason) => pol.violations.push(format!(
                    "job {} tick {}: {} for {reason:?}",
                    job.name, r.scheduled_at_ms, r.status
                )),
                _ => {}
            }
            if r.status == "skipped"
                && r.reason.as_deref() == Some("overlap")
                && job.overlap == "allow"
            {
                pol.violations.push(format!(
                    "job {} tick {}: skipped although overlap is allow",
                    job.name, r.scheduled_at_ms
                ));
            }
            if r.catch_up && job.misfire == "skip" {
                pol.violations.push(format!(
                    "job {} tick {}: catch-up run although misfire is skip",
                    job.name, r.scheduled_at_ms
                ));
            }
        }
        let stats = per_policy.entry(job.misfire).or_default();
        stats.3 += in_range.iter().filter(|r| r.catch_up).count() as u64;
        // Blocks of consecutive missed ticks (consecutive rows: every due tick has a row). A
        // catch-up planning plans around ticks recorded already (the previous owner's runs and
        // skips, or records that landed during an outage): missed rows written by one planning
        // (one statement: the same record time) with only rows written before it in between
        // are one block.
        let planned_at = |r: &RunRow| r.recorded_at_ms.unwrap_or(i64::MAX);
        let mut i = 0;
        while i < in_range.len() {
            if in_range[i].status != "missed" {
                i += 1;
                continue;
            }
            let start = i;
            let planning = planned_at(in_range[start]);
            // Missed rows of an earlier planning that this block steps over (a hole filled
            // below them): they are judged as their own block, from the first of them.
            let (mut resume, mut stepped_over) = (None, 0);
            loop {
                // A missed row of a later planning ends the block (see `replanned` below).
                while i < in_range.len()
                    && in_range[i].status == "missed"
                    && planned_at(in_range[i]) <= planning
                {
                    i += 1;
                }
                let mut j = i;
                while j < in_range.len() && planned_at(in_range[j]) < planning {
                    j += 1;
                }
                if j > i && j < in_range.len() && planned_at(in_range[j]) == planning {
                    let older = in_range[i..j].iter().filter(|r| r.status == "missed");
                    stepped_over += older.count();
                    if resume.is_none() {
                        resume = (i..j).find(|&k| in_range[k].status == "missed");
                    }
                    i = j;
                } else {
                    break;
                }
            }
            let len = (in_range[start..i]
                .iter()
                .filter(|r| r.status == "missed")
                .count()
                - stepped_over) as u64;
            stats.0 += len;
            stats.1 += 1;
            stats.2 = stats.2.max(len);
            let first = in_range[start].scheduled_at_ms;
            let last = in_range[i - 1].scheduled_at_ms;
            match job.misfire {
                "run_all" => pol.violations.push(format!(
                    "job {} (run_all): {len} ticks missed in {first}..={last}",
                    job.name
                )),
                "run_once" => {
                    let seg_end = job
                        .segments
                        .iter()
                        .find(|s| s.start_ms < last && s.end_ms.is_none_or(|e| last <= e))
                        .and_then(|s| s.end_ms)
                        .unwrap_or(cutoff);
                    // The row that must close the block: the next one past the rows
                    // recorded before the planning (the previous owner's, planned around). A
                    // catch-up run closes it wherever it lies among them: its start and the
                    // missed rows' record are two writes of one planning, in either order.
                    let next = rows
                        .range(last + 1..)
                        .map(|(_, t)| t.first)
                        .filter(|r| !r.manual)
                        .find(|r| {
                            planning == i64::MAX
                                || planned_at(r) >= planning
                                || (is_run(&r.status) && r.catch_up)
                        });
                    // Or the overlap policy skipped the catch-up: a run was still in
                    // progress when it came due (a slow run, or one whose records crawl
                    // through a slow database); or an edit superseded it while it waited.
                    // Or a later planning recorded it missed: the planned catch-up waited in
                    // its replica's memory (behind a run in progress) and was never recorded
                    // there, as the replica stopped or lost the job first, so the next
                    // planning found it unrecorded and applied the policy to it; that
                    // planning's block, from this row, is judged on its own.
                    let replanned = |r: &RunRow| r.status == "missed" && planned_at(r) > planning;
                    let closed = next.is_some_and(|r| {
                        (is_run(&r.status) && r.catch_up)
                            || replanned(r)
                            || (r.status == "skipped"
                                && matches!(r.reason.as_deref(), Some("overlap" | "edited")))
                    });
                    // A block may stay open only where its catch-up tick lies beyond the
                    // end of the stretch (a pause, an edit, or the cut-off).
                    let open_allowed = next.is_none_or(|r| r.scheduled_at_ms > seg_end)
                        || last > seg_end - BOUNDARY_MS;
                    if !closed && !open_allowed {
                        pol.violations.push(format!(
                            "job {} (run_once): {len} ticks missed in {first}..={last}, then {}",
                            job.name,
                            next.map(|r| format!(
                                "tick {} {} catch_up={}",
                                r.scheduled_at_ms, r.status, r.catch_up
                            ))
                            .unwrap_or_else(|| "nothing".into())
                        ));
                    }
                }
                _ => {}
            }
            i = resume.unwrap_or(i);
        }
    }
    acc.figure("ticks due (required)", due);
    acc.figure(
        "boundary ticks (within 3 s of a pause/edit/delete): present / absent",
        format!("{boundary_present} / {boundary_absent}"),
    );
    for (k, v) in &by_status {
        acc.figure(&format!("ticks ended {k}"), v);
    }
    acc.figure("of which retried (ended on an attempt > 1)", retried);
    for (policy, (missed, blocks, longest, catch_up)) in &per_policy {
        pol.figure(
            &format!("misfire {policy}"),
            format!(
                "{missed} missed in {blocks} gaps (longest {longest}), {catch_up} catch-up runs"
            ),
        );
    }
    (acc, pol)
}

/// Check 6: every accepted trigger of a job that was not deleted, with its tick at or before
/// `cutoff`, has its run record (run by the owner; a trigger accepted while a run was in
/// progress waits for it, so `cutoff` must leave time for that).
pub fn triggers(
    triggers: &[Trigger],
    runs: &[RunRow],
    jobs: &[JobHistory],
    cutoff: i64,
) -> Outcome {
    let mut out = Outcome::new("6 every accepted manual trigger ran");
    let deleted: HashSet<&str> = jobs
        .iter()
        .filter(|j| j.deleted)
        .map(|j| j.id.as_str())
        .collect();
    let rows = rows_by_tick(runs);
    let (mut judged, mut manual, mut on_a_tick) = (0, 0, 0);
    for t in triggers {
        if deleted.contains(t.job_id.as_str()) || t.tick_ms > cutoff {
            continue;
        }
        judged += 1;
        match rows.get(&(t.job_id.as_str(), t.tick_ms)).map(|t| t.first) {
            Some(r) if is_run(&r.status) && r.manual => manual += 1,
            // The trigger's instant was a scheduled tick's, which ran: the same tick.
            Some(r) if is_run(&r.status) => on_a_tick += 1,
            Some(r) => out.violations.push(format!(
                "job {} manual tick {}: recorded {} ({:?})",
                t.name, t.tick_ms, r.status, r.reason
            )),
            None => out.violations.push(format!(
                "job {} manual tick {}: accepted and never run",
                t.name, t.tick_ms
            )),
        }
    }
    out.figure("triggers accepted", triggers.len());
    out.figure("judged (job not deleted)", judged);
    out.figure("run as manual ticks", manual);
    if on_a_tick > 0 {
        out.figure(
            "on a scheduled tick's instant (ran as that tick)",
            on_a_tick,
        );
    }
    out
}

/// Check 4: RSS samples `(seconds since the process started, KiB)` per replica process.
///
/// Criterion: for every process that lived at least `min_life_s` seconds, drop the first
/// `warmup_s` seconds (plugin compilation, claiming, caches filling); of the rest, the mean of
/// the last third must not exceed 1.5 × the mean of the first third, unless the difference is
/// below 32 MiB (allocator noise on a process of a few tens of MiB). Unbounded growth (a leak
/// proportional to ticks) breaks the ratio in a long run; a plateau does not.
pub fn rss(samples: &BTreeMap<String, Vec<(f64, u64)>>, warmup_s: f64, min_life_s: f64) -> Outcome {
    let mut out = Outcome::new("4 replica memory bounded");
    let mut judged = 0;
    for (process, s) in samples {
        let peak = s.iter().map(|x| x.1).max().unwrap_or(0);
        let life = s.last().map(|x| x.0).unwrap_or(0.0);
        let steady: Vec<u64> = s.iter().filter(|x| x.0 >= warmup_s).map(|x| x.1).collect();
        if life < min_life_s || steady.len() < 6 {
            out.figure(
                process,
                format!(
                    "lived {life:.0} s, peak {} MiB (too short to judge)",
                    peak / 1024
                ),
            );
            continue;
        }
        judged += 1;
        let third = steady.len() / 3;
        let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len() as f64 / 1024.0;
        let first = mean(&steady[..third]);
        let last = mean(&steady[steady.len() - third..]);
        out.figure(
            process,
            format!(
                "lived {life:.0} s, first third {first:.1} MiB, last third {last:.1} MiB \
                 (x{:.2}), peak {} MiB",
                last / first,
                peak / 1024
            ),
        );
        if last > 1.5 * first && last - first > 32.0 {
            out.violations.push(format!(
                "{process}: RSS grew from {first:.1} MiB to {last:.1} MiB"
            ));
        }
    }
    out.figure("processes judged", judged);
    out
}

#[cfg(test)]
mod tests;
