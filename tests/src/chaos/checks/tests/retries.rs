//! The checks on a history with retries: job `a` has 3 attempts and its first two fail, so
//! each of its ticks is tried 1, 2, 3. Such a history passes, its retries counted as neither
//! ticks nor duplicates; an attempt executed twice, a retry without its row, a tick tried
//! more than its attempts, a retry of a success and a success the collector failed are each
//! caught.

use super::*;
use crate::chaos::Retry;

/// The clean history, with every tick of job `a` (the manual one too) tried `tries` times:
/// attempts below 3 failed, attempt 3 succeeded, each reported by `r1`.
fn retried(tries: i64) -> History {
    let mut history = History::clean();
    history.jobs[0].retry = Some(Retry {
        attempts: 3,
        fail_below: 3,
    });
    let ticks: Vec<RunRow> = history
        .runs
        .iter()
        .filter(|r| r.job_id == "a")
        .cloned()
        .collect();
    history.runs.retain(|r| r.job_id != "a");
    history.reports.retain(|(e, _)| e.job_id != "a");
    for first in ticks {
        for attempt in 1..=tries {
            let mut r = first.clone();
            r.attempt = attempt;
            r.status = if attempt < 3 { "failed" } else { "succeeded" }.into();
            r.recorded_at_ms = Some(first.scheduled_at_ms + 1_000 * (attempt - 1));
            let e = Execution {
                job_id: "a".into(),
                scheduled_at: r.scheduled_at_ms,
                instance_id: "r1".into(),
                catch_up: false,
            };
            history.reports.push((e, attempt));
            history.runs.push(r);
        }
    }
    history
}

/// The row of attempt `attempt` of job `a`'s scheduled tick `tick`.
fn attempt_mut(history: &mut History, tick: i64, attempt: i64) -> &mut RunRow {
    history
        .runs
        .iter_mut()
        .find(|r| r.job_id == "a" && r.scheduled_at_ms == tick && r.attempt == attempt)
        .expect("a row of the retried history")
}

fn figure<'a>(outcome: &'a Outcome, key: &str) -> &'a str {
    let (_, value) = outcome
        .figures
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no figure {key:?} in {}", outcome.render(0)));
    value
}

#[test]
fn a_history_with_retried_ticks_passes_every_check_counting_each_tick_once() {
    let history = retried(3);
    let clean = History::clean().judge();
    let judged = history.judge();
    for outcome in &judged {
        passed(outcome);
    }
    let [execution, accounted, _, _, retries] = &judged;
    assert_eq!(
        figure(accounted, "ticks due (required)"),
        figure(&clean[1], "ticks due (required)")
    );
    assert_eq!(
        figure(accounted, "of which retried (ended on an attempt > 1)"),
        "10"
    );
    assert_eq!(
        figure(execution, "executions of retries (attempt > 1)"),
        "22"
    );
    assert_eq!(figure(retries, "most attempts of one tick"), "3");
}

#[test]
fn a_tick_whose_next_attempt_is_still_to_come_at_the_end_passes() {
    let mut history = retried(3);
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms == 10 * S && r.attempt > 1));
    history
        .reports
        .retain(|(e, a)| !(e.job_id == "a" && e.scheduled_at == 10 * S && *a > 1));
    for outcome in history.judge() {
        passed(&outcome);
    }
}

#[test]
fn an_attempt_executed_twice_is_caught() {
    let mut history = retried(3);
    let again = history
        .reports
        .iter()
        .find(|(e, a)| e.job_id == "a" && e.scheduled_at == 5 * S && *a == 2)
        .cloned()
        .unwrap();
    history.reports.push(again);
    let [execution, accounted, policies, triggered, retries] = history.judge();
    caught(
        &execution,
        &["job job-a (a) tick 5000 attempt 2 executed 2 times"],
    );
    for outcome in [accounted, policies, triggered, retries] {
        passed(&outcome);
    }
}

#[test]
fn a_retry_without_its_row_is_caught_unless_reported_after_the_read() {
    let mut history = retried(3);
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms == 5 * S && r.attempt == 2));
    let [execution, accounted, _, _, retries] = history.judge();
    caught(
        &execution,
        &["job job-a tick 5000 attempt 2 executed by r1 has no run record"],
    );
    passed(&accounted);
    caught(
        &retries,
        &["job job-a tick 5000: attempts [1, 3] are not numbered from 1 without a gap"],
    );

    // The runs table read before attempt 3 of tick 10 s started: it has no row yet.
    let mut history = retried(3);
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms == 10 * S && r.attempt == 3));
    let late = history
        .reports
        .iter()
        .position(|(e, a)| e.job_id == "a" && e.scheduled_at == 10 * S && *a == 3)
        .unwrap();
    let report = history.reports.remove(late);
    history.reports.push(report);
    let read_before = history.reports.len() - 1;
    let execution = executions(
        &history.reports,
        read_before,
        &history.runs,
        &history.jobs,
        CUTOFF,
    );
    passed(&execution);
}

#[test]
fn a_tick_tried_more_than_its_attempts_is_caught() {
    let mut history = retried(3);
    attempt_mut(&mut history, 6 * S, 3).status = "failed".into();
    let mut fourth = attempt_mut(&mut history, 6 * S, 3).clone();
    fourth.attempt = 4;
    history.runs.push(fourth);
    let e = Execution {
        job_id: "a".into(),
        scheduled_at: 6 * S,
        instance_id: "r1".into(),
        catch_up: false,
    };
    history.reports.push((e, 4));
    // Job b has no retry policy: a second attempt is one too many.
    let mut second = history.row_mut("b", 2 * S).clone();
    history.row_mut("b", 2 * S).status = "failed".into();
    second.attempt = 2;
    history.runs.push(second);
    let [execution, accounted, _, _, retries] = history.judge();
    passed(&execution);
    passed(&accounted);
    caught(
        &retries,
        &[
            "job job-a (misfire run_once overlap skip attempts 3 failing below 3) tick 6000: \
             tried 4 times, at most 3 allowed",
            "job job-b (misfire run_once overlap skip) tick 2000: tried 2 times, at most 1",
            "job job-a tick 6000: executed attempt 4 (at most 3 allowed)",
        ],
    );
}

#[test]
fn a_retry_of_a_success_and_a_success_the_collector_failed_are_caught() {
    let mut history = retried(3);
    attempt_mut(&mut history, 7 * S, 2).status = "succeeded".into();
    let [.., retries] = history.judge();
    caught(
        &retries,
        &[
            "job job-a tick 7000: attempt 2 succeeded and yet tried again",
            "job job-a tick 7000: attempt 2 succeeded, but the collector failed it",
        ],
    );
}

#[test]
fn a_failed_attempt_whose_next_one_never_came_is_caught_unless_it_may_still_come_or_was_dropped() {
    let mut history = retried(3);
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms == 2 * S && r.attempt > 1));
    history
        .reports
        .retain(|(e, a)| !(e.job_id == "a" && e.scheduled_at == 2 * S && *a > 1));
    let judge = |h: &History, cutoff: i64| attempts(&h.reports, &h.runs, &h.jobs, cutoff);
    // Judged long after the tick: the retry was lost.
    let later = 20 * S;
    caught(
        &judge(&history, later),
        &[
            "job job-a (misfire run_once overlap skip attempts 3 failing below 3) tick 2000: \
           attempt 1 failed, and attempt 2 never came",
        ],
    );
    // Judged soon after the tick: it may still come.
    passed(&judge(&history, CUTOFF));
    // The job was paused soon after: the pause dropped it.
    history.jobs[0].segments[0].end_ms = Some(4 * S);
    passed(&judge(&history, later));
    // Misfire skip: dropped when it came due late.
    history.jobs[0].segments[0].end_ms = None;
    history.jobs[0].misfire = "skip";
    passed(&judge(&history, later));
    // Abandoned: its replica lost the job mid-run, which is not retried.
    history.jobs[0].misfire = "run_once";
    attempt_mut(&mut history, 2 * S, 1).reason = Some("abandoned".into());
    passed(&judge(&history, later));
}

#[test]
fn a_failed_attempt_is_given_time_for_its_next_one_from_when_it_ran_not_from_its_tick() {
    // Tick 2 s ran as a catch-up of a run_all backlog, its attempts 30 s after the tick:
    // attempt 2 failed 29 s after it, and attempt 3, due 2 s later, had not come when the runs
    // table was read (cut-off at 40 s).
    let mut history = retried(3);
    history.jobs[0].misfire = "run_all";
    history
        .runs
        .retain(|r| !(r.job_id == "a" && r.scheduled_at_ms == 2 * S && r.attempt == 3));
    history
        .reports
        .retain(|(e, a)| !(e.job_id == "a" && e.scheduled_at == 2 * S && *a == 3));
    attempt_mut(&mut history, 2 * S, 1).recorded_at_ms = Some(30 * S);
    attempt_mut(&mut history, 2 * S, 2).recorded_at_ms = Some(31 * S);
    let judge = |h: &History, cutoff: i64| attempts(&h.reports, &h.runs, &h.jobs, cutoff);
    passed(&judge(&history, 40 * S));
    // Long after that attempt, its successor is overdue.
    caught(
        &judge(&history, 60 * S),
        &[
            "job job-a (misfire run_all overlap skip attempts 3 failing below 3) tick 2000: \
           attempt 2 failed, and attempt 3 never came",
        ],
    );
}
