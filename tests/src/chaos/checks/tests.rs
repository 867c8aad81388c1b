//! The checks' judgement on hand-made histories: a clean one passes; a tick executed twice, a
//! due tick absent from the runs table, a catch-up against the misfire policy, a trigger that
//! never ran and a growing process are each caught.

use std::collections::BTreeMap;

use super::*;
use crate::chaos::Segment;
use crate::collector::Execution;

/// The runs table and the collector's reports are read at this instant.
const CUTOFF: i64 = 10_000;
const S: i64 = 1_000;

/// A job of `misfire` policy, scheduled every second from 0 on and never changed.
fn job(id: &str, misfire: &'static str) -> JobHistory {
    JobHistory {
        id: id.into(),
        name: format!("job-{id}"),
        misfire,
        overlap: "skip",
        slow: false,
        retry: None,
        segments: vec![Segment {
            period_ms: S,
            start_ms: 0,
            end_ms: None,
        }],
        deleted: false,
    }
}

fn row(job: &str, tick: i64, status: &str, reason: Option<&str>, recorded_at: i64) -> RunRow {
    RunRow {
        job_id: job.into(),
        scheduled_at_ms: tick,
        attempt: 1,
        status: status.into(),
        reason: reason.map(Into::into),
        instance_id: (status != "missed").then(|| "r1".to_string()),
        catch_up: false,
        manual: false,
        recorded_at_ms: Some(recorded_at),
    }
}

/// A tick run on time by `r1`.
fn ran(job: &str, tick: i64) -> RunRow {
    row(job, tick, "succeeded", None, tick)
}

/// A tick missed (misfire) by the planning at `planned_at`.
fn missed(job: &str, tick: i64, planned_at: i64) -> RunRow {
    row(job, tick, "missed", Some("misfire"), planned_at)
}

/// A history as a chaos run leaves it, every check passing:
/// - job `a` (run_once) ran every tick, and a manual trigger at 4.5 s;
/// - job `b` (run_once) was down from 3 s to 6 s: ticks 3 s to 5 s missed, 6 s its catch-up;
/// - job `c` (skip) was down as long: ticks 3 s to 5 s missed, no catch-up;
/// - job `d` (run_all) was down as long: every tick ran, the late ones as catch-ups.
struct History {
    jobs: Vec<JobHistory>,
    runs: Vec<RunRow>,
    reports: Vec<(Execution, i64)>,
    triggers: Vec<Trigger>,
}

impl History {
    fn clean() -> History {
        let jobs = vec![
            job("a", "run_once"),
            job("b", "run_once"),
            job("c", "skip"),
            job("d", "run_all"),
        ];
        let mut runs = Vec::new();
        for t in (1..=10).map(|k| k * S) {
            runs.push(ran("a", t));
            let late = (3 * S..=5 * S).contains(&t);
            for (id, policy) in [("b", "run_once"), ("c", "skip"), ("d", "run_all")] {
                let mut r = match (late, policy) {
                    (true, "run_all") => ran(id, t),
                    (true, _) => missed(id, t, 6_100),
                    (false, _) => ran(id, t),
                };
                // The tick at 6 s of b, and the late ticks of d, run as catch-ups.
                r.catch_up = (id == "b" && t == 6 * S) || (id == "d" && late);
                if r.catch_up {
                    r.recorded_at_ms = Some(6_100);
                }
                runs.push(r);
            }
        }
        let mut manual = ran("a", 4_500);
        manual.manual = true;
        runs.push(manual);
        runs.sort_by(|x, y| (&x.job_id, x.scheduled_at_ms).cmp(&(&y.job_id, y.scheduled_at_ms)));
        let reports = runs
            .iter()
            .filter(|r| r.status == "succeeded")
            .map(|r| {
                let e = Execution {
                    job_id: r.job_id.clone(),
                    scheduled_at: r.scheduled_at_ms,
                    instance_id: "r1".into(),
                    catch_up: r.catch_up,
                };
                (e, 1)
            })
            .collect();
        let triggers = vec![Trigger {
            job_id: "a".into(),
            name: "job-a".into(),
            tick_ms: 4_500,
        }];
        History {
            jobs,
            runs,
            reports,
            triggers,
        }
    }

    /// Checks 1, 2, 3, 6 and 7, in that order (every report arrived before the runs table
    /// was read).
    fn judge(&self) -> [Outcome; 5] {
        let (accounted, policies) = accounting(&self.runs, &self.jobs, CUTOFF);
        let read_before = self.reports.len();
        [
            executions(&self.reports, read_before, &self.runs, &self.jobs, CUTOFF),
            accounted,
            policies,
            triggers(&self.triggers, &self.runs, &self.jobs, CUTOFF),
            attempts(&self.reports, &self.runs, &self.jobs, CUTOFF),
        ]
    }

    fn row_mut(&mut self, job: &str, tick: i64) -> &mut RunRow {
        self.runs
            .iter_mut()
            .find(|r| r.job_id == job && r.scheduled_at_ms == tick && !r.manual)
            .expect("a row of the clean history")
    }
}

/// The outcome failed, and only for `needles`: one violation each, naming it.
fn caught(outcome: &Outcome, needles: &[&str]) {
    assert!(!outcome.passed(), "{} passed", outcome.name);
    assert_eq!(
        outcome.violations.len(),
        needles.len(),
        "{}",
        outcome.render(20)
    );
    for (violation, needle) in outcome.violations.iter().zip(needles) {
        assert!(violation.contains(needle), "{violation:?} lacks {needle:?}");
    }
}

fn passed(outcome: &Outcome) {
    assert!(outcome.passed(), "{}", outcome.render(20));
}

#[test]
fn a_clean_history_passes_every_check() {
    let history = History::clean();
    for outcome in history.judge() {
        passed(&outcome);
    }
}

#[test]
fn a_tick_executed_twice_is_caught() {
    let mut history = History::clean();
    let (again, _) = history
        .reports
        .iter()
        .find(|(e, _)| e.job_id == "a" && e.scheduled_at == 5 * S)
        .cloned()
        .unwrap();
    history.reports.push((again, 1));
    let [execution, accounted, policies, triggered, retried] = history.judge();
    caught(
        &execution,
        &["job job-a (a) tick 5000 attempt 1 executed 2 times"],
    );
    for outcome in [accounted, policies, triggered, retried] {
        passed(&outcome);
    }
}

#[test]
fn an_execution_by_another_replica_than_the_recorded_one_is_caught() {
    let mut history = History::clean();
    history.reports[0].0.instance_id = "r2".into();
    let [execution, ..] = history.judge();
    caught(
        &execution,
        &["attempt 1 executed by r2 but recorded succeeded by Some(\"r1\")"],
    );
}

#[test]
fn a_due_tick_absent_from_the_runs_table_is_caught() {
    let mut history = History::clean();
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms == 7 * S));
    history
        .reports
        .retain(|(e, _)| !(e.job_id == "a" && e.scheduled_at == 7 * S));
    let [execution, accounted, policies, triggered, retried] = history.judge();
    caught(
        &accounted,
        &["job job-a (a, misfire run_once overlap skip) tick 7000: due and absent"],
    );
    for outcome in [execution, policies, triggered, retried] {
        passed(&outcome);
    }
}

#[test]
fn a_missed_block_that_no_catch_up_closes_is_caught_under_run_once() {
    let mut history = History::clean();
    history.row_mut("b", 6 * S).catch_up = false;
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    caught(
        &policies,
        &[
            "job job-b (run_once): 3 ticks missed in 3000..=5000, then tick 6000 succeeded catch_up=false",
        ],
    );
}

#[test]
fn a_missed_block_closed_by_an_overlap_skip_of_its_catch_up_passes_under_run_once() {
    let mut history = History::clean();
    *history.row_mut("b", 6 * S) = row("b", 6 * S, "skipped", Some("overlap"), 6_100);
    history
        .reports
        .retain(|(e, _)| !(e.job_id == "b" && e.scheduled_at == 6 * S));
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    passed(&policies);
}

/// Job `b` taken over at 9.1 s by a replica that finds tick 3 s never recorded below the
/// previous owner's ticks 4 s and 5 s (recorded on time): the planning misses 3 s and runs 6 s
/// as its catch-up (its start recorded at `catch_up_at`, around the planning's record), then
/// 7 s to 9 s as ordinary ticks.
fn taken_over_with_a_hole(catch_up_at: i64) -> History {
    let mut history = History::clean();
    history.runs.retain(|r| r.job_id != "b");
    history.reports.retain(|(e, _)| e.job_id != "b");
    for t in (1..=10).map(|k| k * S) {
        let mut r = match t {
            3_000 => missed("b", t, 9_100),
            6_000 => ran("b", t),
            7_000..=9_000 => row("b", t, "succeeded", None, 9_200 + t / 10),
            _ => ran("b", t),
        };
        if t == 6 * S {
            r.catch_up = true;
            r.recorded_at_ms = Some(catch_up_at);
        }
        if r.status == "succeeded" {
            let e = Execution {
                job_id: "b".into(),
                scheduled_at: t,
                instance_id: "r1".into(),
                catch_up: r.catch_up,
            };
            history.reports.push((e, 1));
        }
        history.runs.push(r);
    }
    history
        .runs
        .sort_by(|x, y| (&x.job_id, x.scheduled_at_ms).cmp(&(&y.job_id, y.scheduled_at_ms)));
    history
}

#[test]
fn a_catch_up_run_past_the_previous_owners_rows_closes_a_block_under_run_once() {
    // The catch-up run's start recorded after the missed tick, or just before it.
    for catch_up_at in [9_105, 9_095] {
        for outcome in taken_over_with_a_hole(catch_up_at).judge() {
            passed(&outcome);
        }
    }
}

#[test]
fn an_ordinary_run_past_the_previous_owners_rows_is_caught_under_run_once() {
    let mut history = taken_over_with_a_hole(9_105);
    history.row_mut("b", 6 * S).catch_up = false;
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    caught(
        &policies,
        &[
            "job job-b (run_once): 1 ticks missed in 3000..=3000, then tick 6000 succeeded catch_up=false",
        ],
    );
}

/// Job `b` taken over at 9.1 s with a hole at 3 s below rows its previous owner recorded: 4 s
/// skipped, 5 s and 6 s missed by an earlier planning (at 7 s), then 7 s as `seven`; the
/// planning at 9.1 s misses 3 s and 8 s and runs 9 s as its catch-up.
fn hole_below_an_earlier_block(seven: RunRow) -> History {
    let mut history = History::clean();
    history.runs.retain(|r| r.job_id != "b");
    history.reports.retain(|(e, _)| e.job_id != "b");
    for t in (1..=10).map(|k| k * S) {
        let mut r = match t {
            3_000 | 8_000 => missed("b", t, 9_100),
            4_000 => row("b", t, "skipped", Some("overlap"), t),
            5_000 | 6_000 => missed("b", t, 7_000),
            7_000 => seven.clone(),
            _ => ran("b", t),
        };
        if t >= 9 * S {
            r.recorded_at_ms = Some(9_100 + t / 100);
            r.catch_up = t == 9 * S;
        }
        history.runs.push(r);
    }
    history
        .runs
        .sort_by(|x, y| (&x.job_id, x.scheduled_at_ms).cmp(&(&y.job_id, y.scheduled_at_ms)));
    history
}

#[test]
fn a_hole_filled_below_an_earlier_planning_s_missed_ticks_is_one_block_under_run_once() {
    // 7 s missed by the planning at 9.1 s too: 5 s to 8 s are consecutive missed rows.
    let history = hole_below_an_earlier_block(missed("b", 7 * S, 9_100));
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    passed(&policies);
}

#[test]
fn an_earlier_block_stepped_over_by_a_filled_hole_is_still_judged_under_run_once() {
    // The earlier block (5 s, 6 s) was followed by an ordinary run at 7 s: caught, although
    // the hole's block (3 s, 8 s) steps over it and is closed by the catch-up at 9 s.
    let mut seven = row("b", 7 * S, "succeeded", None, 7_050);
    seven.catch_up = false;
    let history = hole_below_an_earlier_block(seven);
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    caught(
        &policies,
        &[
            "job job-b (run_once): 2 ticks missed in 5000..=6000, then tick 7000 succeeded catch_up=false",
        ],
    );
}

/// Job `b`: a planning at 6.1 s misses 3 s and 4 s and plans 5 s as its catch-up, which waits
/// behind a run in progress; the replica stops before it starts (held only in memory, it is
/// not recorded). 6 s was skipped for overlap meanwhile (recorded at 6.05 s). The next owner's
/// planning at 9.1 s finds 5 s and 7 s unrecorded: it misses them and runs 8 s as its catch-up,
/// which is `eight`.
fn catch_up_left_to_the_next_owner(eight: RunRow) -> History {
    let mut history = History::clean();
    history.runs.retain(|r| r.job_id != "b");
    history.reports.retain(|(e, _)| e.job_id != "b");
    for t in (1..=10).map(|k| k * S) {
        let r = match t {
            3_000 | 4_000 => missed("b", t, 6_100),
            5_000 | 7_000 => missed("b", t, 9_100),
            6_000 => row("b", t, "skipped", Some("overlap"), 6_050),
            8_000 => eight.clone(),
            _ => ran("b", t),
        };
        history.runs.push(r);
    }
    history
}

#[test]
fn a_block_whose_catch_up_the_next_planning_missed_is_closed_by_that_planning_s_catch_up() {
    let mut eight = row("b", 8 * S, "succeeded", None, 9_105);
    eight.catch_up = true;
    let history = catch_up_left_to_the_next_owner(eight);
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    passed(&policies);
}

#[test]
fn a_later_planning_that_missed_a_block_s_catch_up_without_its_own_is_caught() {
    let history = catch_up_left_to_the_next_owner(row("b", 8 * S, "succeeded", None, 9_105));
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    caught(
        &policies,
        &[
            "job job-b (run_once): 2 ticks missed in 5000..=7000, then tick 8000 succeeded catch_up=false",
        ],
    );
}

#[test]
fn a_catch_up_recorded_missed_is_caught_under_run_once() {
    // Missed by a later planning (at 7.1 s), which closes the block of 3 s to 5 s, and is a
    // block of its own that no catch-up closes (7 s was recorded before it, on time).
    let mut history = History::clean();
    let r = history.row_mut("b", 6 * S);
    *r = missed("b", 6 * S, 7_100);
    history
        .reports
        .retain(|(e, _)| !(e.job_id == "b" && e.scheduled_at == 6 * S));
    let [_, _, policies, ..] = history.judge();
    caught(
        &policies,
        &[
            "job job-b (run_once): 1 ticks missed in 6000..=6000, then tick 8000 succeeded catch_up=false",
        ],
    );
    // Missed by the planning that missed 3 s to 5 s: one block, no catch-up.
    history.row_mut("b", 6 * S).recorded_at_ms = Some(6_100);
    let [_, _, policies, ..] = history.judge();
    caught(
        &policies,
        &[
            "job job-b (run_once): 4 ticks missed in 3000..=6000, then tick 7000 succeeded catch_up=false",
        ],
    );
}

#[test]
fn a_catch_up_run_is_caught_under_skip() {
    let mut history = History::clean();
    history.row_mut("c", 6 * S).catch_up = true;
    let [_, _, policies, ..] = history.judge();
    caught(
        &policies,
        &["job job-c tick 6000: catch-up run although misfire is skip"],
    );
}

#[test]
fn a_missed_tick_is_caught_under_run_all() {
    let mut history = History::clean();
    *history.row_mut("d", 4 * S) = missed("d", 4 * S, 6_100);
    history
        .reports
        .retain(|(e, _)| !(e.job_id == "d" && e.scheduled_at == 4 * S));
    let [_, accounted, policies, ..] = history.judge();
    passed(&accounted);
    caught(
        &policies,
        &["job job-d (run_all): 1 ticks missed in 4000..=4000"],
    );
}

#[test]
fn a_tick_missed_or_skipped_for_the_wrong_reason_is_caught() {
    let mut history = History::clean();
    history.row_mut("c", 4 * S).reason = Some("overlap".into());
    history.row_mut("a", 2 * S).status = "skipped".into();
    history.row_mut("a", 2 * S).reason = None;
    history
        .reports
        .retain(|(e, _)| !(e.job_id == "a" && e.scheduled_at == 2 * S));
    let [_, accounted, policies, ..] = history.judge();
    caught(
        &accounted,
        &["job job-a tick 2000: skipped without a reason"],
    );
    caught(
        &policies,
        &[
            "job job-a tick 2000: skipped for None",
            "job job-c tick 4000: missed for Some(\"overlap\")",
        ],
    );
}

#[test]
fn a_tick_run_while_its_job_was_paused_is_caught() {
    let mut history = History::clean();
    // Job a paused at 5 s: ticks up to 2 s are due, up to 8 s may or may not have run.
    history.jobs[0].segments[0].end_ms = Some(5 * S);
    let [_, accounted, ..] = history.judge();
    caught(
        &accounted,
        &[
            "job job-a tick 9000: recorded succeeded but not due",
            "job job-a tick 10000: recorded succeeded but not due",
        ],
    );
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms > 3 * S && !r.manual));
    let [_, accounted, ..] = history.judge();
    passed(&accounted);
}

#[test]
fn an_accepted_trigger_that_never_ran_is_caught() {
    let mut history = History::clean();
    history.triggers.push(Trigger {
        job_id: "b".into(),
        name: "job-b".into(),
        tick_ms: 8_500,
    });
    let [.., triggered, _] = history.judge();
    caught(
        &triggered,
        &["job job-b manual tick 8500: accepted and never run"],
    );
}

#[test]
fn a_replica_whose_memory_keeps_growing_is_caught_and_a_plateau_is_not() {
    let samples = |growth_kib: u64| -> Vec<(f64, u64)> {
        (0..60)
            .map(|k| (k as f64 * 2.0, 40_000 + k as u64 * growth_kib))
            .collect()
    };
    let mut processes = BTreeMap::new();
    processes.insert("r1#0".to_string(), samples(0));
    processes.insert("r2#1".to_string(), samples(2_000));
    let outcome = rss(&processes, 20.0, 60.0);
    caught(&outcome, &["r2#1: RSS grew from"]);
}

mod retries;
