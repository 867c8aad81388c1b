//! The scheduler's state machine under a controlled clock: every overlap and misfire policy,
//! the maintenance switch, late timers and database outages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::core::{Action, MISFIRE_GRACE_MS, ManualWait, NotRun, SchedulerCore};
use crate::jobs::JobSpec;
use crate::schedule::{JobTiming, MisfirePolicy, OverlapPolicy, Schedule};
use crate::store::RunStatus;

fn spec(
    schedule: &str,
    overlap: OverlapPolicy,
    misfire: MisfirePolicy,
    window: Duration,
) -> Arc<JobSpec> {
    Arc::new(JobSpec {
        id: "job".into(),
        name: "job".into(),
        plugin: "p".into(),
        input: "null".into(),
        config: Arc::new(HashMap::new()),
        secrets: Arc::default(),
        timing: JobTiming::new(
            Schedule::parse(schedule).unwrap(),
            chrono_tz::UTC,
            Duration::ZERO,
        ),
        overlap,
        misfire,
        catchup_window: window,
        timeout: None,
        memory_limit: None,
        allowed_hosts: Vec::new(),
        failure: Default::default(),
        paused: false,
        version: 1,
        epoch: 1,
        anchor_ms: 0,
    })
}

pub(super) fn every_second(overlap: OverlapPolicy, misfire: MisfirePolicy) -> Arc<JobSpec> {
    spec("@every 1s", overlap, misfire, Duration::from_secs(3600))
}

/// Runs as (tick, catch_up).
pub(super) fn runs(actions: &[Action]) -> Vec<(i64, bool)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Run {
                tick_ms, catch_up, ..
            } => Some((*tick_ms, *catch_up)),
            _ => None,
        })
        .collect()
}

/// Recorded (tick, why).
pub(super) fn recorded(actions: &[Action]) -> Vec<(i64, NotRun)> {
    actions
        .iter()
        .flat_map(|a| match a {
            Action::Record { ticks, .. } => ticks.clone(),
            _ => Vec::new(),
        })
        .collect()
}

pub(super) const S: i64 = 1000;

/// The runs `started` began with, followed by every run started as each earlier one ends,
/// until nothing more waits.
fn drain(core: &mut SchedulerCore, started: Vec<(i64, bool)>) -> Vec<(i64, bool)> {
    let mut ran = started;
    loop {
        let next = runs(&core.finished("job"));
        if next.is_empty() {
            return ran;
        }
        ran.extend(next);
    }
}

/// One pass of the scheduler loop: fire what is due, then re-arm.
pub(super) fn fire(core: &mut SchedulerCore, now_ms: i64) -> Vec<Action> {
    let actions = core.fire_due(now_ms);
    core.rearm_fired();
    actions
}

#[test]
fn ticks_fire_on_time_and_the_next_is_computed_from_the_previous_instant() {
    let mut core = SchedulerCore::new();
    let actions = core.take(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert!(actions.is_empty());
    assert_eq!(core.next_deadline(), Some(S));
    assert!(fire(&mut core, S - 1).is_empty());
    // The timer fires 300 ms late: the tick is still the nominal instant, and the next one
    // is one period after it (no drift).
    assert_eq!(runs(&fire(&mut core, S + 300)), vec![(S, false)]);
    assert_eq!(core.next_deadline(), Some(2 * S));
    assert_eq!(runs(&fire(&mut core, 2 * S)), vec![(2 * S, false)]);
}

#[test]
fn overlap_skip_records_the_tick_skipped_with_reason_overlap() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    let second = fire(&mut core, 2 * S);
    assert!(runs(&second).is_empty());
    assert_eq!(recorded(&second), vec![(2 * S, NotRun::Overlap)]);
    assert_eq!(NotRun::Overlap.status(), RunStatus::Skipped);
    assert!(core.finished("job").is_empty(), "nothing waits under skip");
    assert_eq!(runs(&fire(&mut core, 3 * S)), vec![(3 * S, false)]);
}

#[test]
fn overlap_allow_runs_concurrently() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    assert_eq!(runs(&fire(&mut core, 2 * S)), vec![(2 * S, false)]);
    assert_eq!(runs(&fire(&mut core, 3 * S)), vec![(3 * S, false)]);
}

#[test]
fn overlap_queue_keeps_at_most_one_waiting_tick() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Queue, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    assert!(fire(&mut core, 2 * S).is_empty(), "queued, not run");
    let third = fire(&mut core, 3 * S);
    assert_eq!(
        recorded(&third),
        vec![(3 * S, NotRun::Overlap)],
        "one already waits"
    );
    assert_eq!(runs(&core.finished("job")), vec![(2 * S, false)]);
    assert!(core.finished("job").is_empty());
}

#[test]
fn an_edit_of_the_schedule_records_the_waiting_ticks_of_the_old_one_skipped() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Queue, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    assert!(
        fire(&mut core, 2 * S).is_empty(),
        "2 s queued behind the run"
    );
    // The schedule changes at 2.5 s: the queued tick of the old schedule is recorded, not
    // kept in memory to run later (a replica lost meanwhile would take it along).
    let mut edited = (*spec(
        "@every 3s",
        OverlapPolicy::Queue,
        MisfirePolicy::RunOnce,
        Duration::from_secs(3600),
    ))
    .clone();
    edited.version = 2;
    edited.anchor_ms = 2 * S + 500;
    let actions = core.update(Arc::new(edited.clone()), 2 * S + 500);
    assert_eq!(recorded(&actions), vec![(2 * S, NotRun::Edited)]);
    assert_eq!(NotRun::Edited.status(), RunStatus::Skipped);
    assert!(runs(&actions).is_empty());
    assert!(core.finished("job").is_empty(), "nothing waits any more");
    // Ticks stalled by a database outage are recorded too: the 3 s tick's record fails (it
    // is to be planned again), the 6 s tick comes due meanwhile, and the schedule changes
    // again at 7.2 s.
    assert_eq!(runs(&fire(&mut core, 3 * S)), vec![(3 * S, false)]);
    core.stalled("job", 3 * S, true);
    let mut again = edited.clone();
    again.version = 3;
    again.anchor_ms = 7 * S + 200;
    let old_ticks = recorded(&core.update(Arc::new(again.clone()), 7 * S + 200));
    assert_eq!(
        old_ticks,
        vec![(3 * S, NotRun::Edited), (6 * S, NotRun::Edited)],
        "the ticks of the 3 s schedule"
    );
    // That record stalls in turn (the database still down): the ticks are planned again
    // from the new anchor, never from before it (the new schedule owes nothing there).
    core.stalled("job", 3 * S, false);
    assert_eq!(
        core.stalled_cursors(),
        vec![("job".to_owned(), 7 * S + 200)]
    );
    edited = again;
    // An edit that keeps the anchor (another field) records nothing.
    edited.version = 4;
    assert!(recorded(&core.update(Arc::new(edited), 7 * S + 300)).is_empty());
}

fn is_manual(action: &Result<Action, ManualWait>, tick: i64, trigger: i64) -> bool {
    matches!(action, Ok(Action::Manual { tick_ms, trigger_id, .. }) if *tick_ms == tick && *trigger_id == trigger)
}

#[test]
fn a_manual_run_counts_for_the_overlap_policy_like_a_scheduled_one() {
    let mut core = SchedulerCore::new();
    assert_eq!(core.manual("job", 500, 1).unwrap_err(), ManualWait::NotHeld);
    core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert!(is_manual(&core.manual("job", 500, 1), 500, 1));
    // The tick due while the manual run is in progress is skipped (skip), recorded only once
    // the manual run is, …
    let during = fire(&mut core, S);
    assert!(runs(&during).is_empty());
    assert_eq!(recorded(&during), vec![(S, NotRun::Overlap)]);
    assert!(matches!(
        during[..],
        [Action::Record {
            after_run: Some(500),
            ..
        }]
    ));
    // … a second trigger waits for it (offered again, it still waits; a third stays
    // pending), …
    for _ in 0..2 {
        assert_eq!(
            core.manual("job", 1_500, 2).unwrap_err(),
            ManualWait::AfterRun
        );
    }
    assert_eq!(core.manual("job", 1_600, 3).unwrap_err(), ManualWait::Busy);
    // … and starts as soon as the first has ended; the next tick then waits for it.
    let next = core.finished("job");
    assert_eq!(next.len(), 1);
    assert!(is_manual(&Ok(next[0].clone()), 1_500, 2));
    assert_eq!(
        recorded(&fire(&mut core, 2 * S)),
        vec![(2 * S, NotRun::Overlap)]
    );
    assert!(core.finished("job").is_empty(), "nothing waits under skip");
    assert_eq!(runs(&fire(&mut core, 3 * S)), vec![(3 * S, false)]);
}

#[test]
fn a_trigger_of_a_job_that_is_always_busy_runs_after_the_run_in_progress() {
    // Under `queue`, with runs longer than the period, a tick always waits: the trigger goes
    // first, then the queued tick.
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Queue, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    assert!(fire(&mut core, 2 * S).is_empty(), "queued");
    assert_eq!(
        core.manual("job", 2_100, 4).unwrap_err(),
        ManualWait::AfterRun
    );
    let next = core.finished("job");
    assert!(is_manual(&Ok(next[0].clone()), 2_100, 4));
    assert_eq!(runs(&core.finished("job")), vec![(2 * S, false)]);
}

#[test]
fn a_tick_due_during_a_manual_run_is_queued_behind_it_under_queue() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Queue, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert!(is_manual(&core.manual("job", 500, 7), 500, 7));
    assert!(
        fire(&mut core, S).is_empty(),
        "queued behind the manual run"
    );
    assert_eq!(runs(&core.finished("job")), vec![(S, false)]);
}

#[test]
fn manual_runs_overlap_under_allow_and_wait_for_the_maintenance_switch() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    assert!(is_manual(&core.manual("job", 1_200, 1), 1_200, 1));
    assert!(is_manual(&core.manual("job", 1_300, 2), 1_300, 2));
    core.set_cluster_paused(true, 1_400);
    assert_eq!(
        core.manual("job", 1_400, 3).unwrap_err(),
        ManualWait::ClusterPaused
    );
    core.set_cluster_paused(false, 1_500);
    assert!(is_manual(&core.manual("job", 1_400, 3), 1_400, 3));
}

/// A replica takes a 1-second job at 20 s whose last recorded tick is 10 s.
fn take_late(misfire: MisfirePolicy, window: Duration) -> (SchedulerCore, Vec<Action>) {
    let mut core = SchedulerCore::new();
    let actions = core.take(
        spec("@every 1s", OverlapPolicy::Skip, misfire, window),
        10 * S,
        20 * S,
    );
    (core, actions)
}

#[test]
fn misfire_skip_records_every_late_tick_missed_and_runs_only_recent_ones() {
    let (mut core, actions) = take_late(MisfirePolicy::Skip, Duration::from_secs(3600));
    // Ticks 11..=15 s are more than the grace late: missed. 16..=20 s are within it: run in order.
    assert_eq!(MISFIRE_GRACE_MS, 5 * S);
    let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
    assert_eq!(missed, vec![11 * S, 12 * S, 13 * S, 14 * S, 15 * S]);
    assert!(
        recorded(&actions)
            .iter()
            .all(|(_, why)| *why == NotRun::Misfire)
    );
    assert_eq!(runs(&actions), vec![(16 * S, false)]);
    let drained = drain(&mut core, vec![(16 * S, false)]);
    assert!(drained.iter().all(|(_, catch_up)| !catch_up));
    let ran: Vec<i64> = drained.iter().map(|(t, _)| *t).collect();
    assert_eq!(ran, (16..=20).map(|s| s * S).collect::<Vec<_>>());
    assert_eq!(core.next_deadline(), Some(21 * S));
}

#[test]
fn misfire_run_once_runs_the_latest_late_tick_with_catch_up() {
    let (mut core, actions) = take_late(MisfirePolicy::RunOnce, Duration::from_secs(3600));
    let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
    assert_eq!(missed, vec![11 * S, 12 * S, 13 * S, 14 * S]);
    assert_eq!(runs(&actions), vec![(15 * S, true)]);
    assert_eq!(runs(&core.finished("job")), vec![(16 * S, false)]);
}

#[test]
fn misfire_run_all_runs_every_late_tick_in_order() {
    let (mut core, actions) = take_late(MisfirePolicy::RunAll, Duration::from_secs(3600));
    assert!(recorded(&actions).is_empty());
    let ran = drain(&mut core, runs(&actions));
    let expected: Vec<(i64, bool)> = (11..=20).map(|s| (s * S, s <= 15)).collect();
    assert_eq!(ran, expected);
}

#[test]
fn ticks_older_than_the_catchup_window_are_missed_with_that_reason() {
    let (_, actions) = take_late(MisfirePolicy::RunAll, Duration::from_secs(2));
    // Late cutoff 15 s, window 2 s: 13..=15 s may run, 11 and 12 s are outside the window.
    let rec = recorded(&actions);
    assert_eq!(
        rec,
        vec![
            (11 * S, NotRun::CatchupWindow),
            (12 * S, NotRun::CatchupWindow)
        ]
    );
    assert_eq!(NotRun::CatchupWindow.status(), RunStatus::Missed);
    assert_eq!(runs(&actions), vec![(13 * S, true)]);
}

#[test]
fn a_year_long_gap_of_a_one_second_job_is_bounded() {
    let mut core = SchedulerCore::new();
    let year = 365 * 24 * 3600 * S;
    let actions = core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        0,
        year,
    );
    let listed = recorded(&actions).len();
    assert!(listed <= super::core::MAX_LISTED_MISSED, "{listed}");
    let unlisted: u64 = actions
        .iter()
        .map(|a| match a {
            Action::Record {
                unlisted_missed, ..
            } => *unlisted_missed,
            _ => 0,
        })
        .sum();
    // Every due tick is accounted for: listed or counted as missed, or run (the catch-up tick,
    // then the in-grace ticks as each run ends).
    let run_count = drain(&mut core, runs(&actions)).len() as u64;
    assert_eq!(run_count, 1 + 5);
    assert_eq!(listed as u64 + unlisted + run_count, (year / S) as u64);
}

#[test]
fn a_late_timer_goes_through_the_misfire_policy() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        0,
        0,
    );
    // The process was stopped for 30 s; its timer fires at 31 s for the 1 s tick.
    let actions = fire(&mut core, 31 * S);
    let missed = recorded(&actions);
    assert_eq!(missed.len(), 25, "1..=25 s missed (26 s runs as catch-up)");
    assert_eq!(runs(&actions), vec![(26 * S, true)]);
}

#[test]
fn the_maintenance_switch_holds_ticks_and_resuming_applies_the_misfire_policy() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        0,
        0,
    );
    assert!(core.set_cluster_paused(true, 0).is_empty());
    for t in 1..=20 {
        assert!(fire(&mut core, t * S).is_empty(), "nothing starts at {t} s");
    }
    // Every tick due during the pause follows the misfire policy, even those within the
    // grace that a handover would run late: run_once runs the latest, the others are missed.
    let actions = core.set_cluster_paused(false, 20 * S + 300);
    assert_eq!(recorded(&actions).len(), 19, "1..=19 s missed");
    assert_eq!(runs(&actions), vec![(20 * S, true)]);
}

#[test]
fn a_job_taken_during_the_maintenance_switch_runs_no_tick_of_it_as_if_on_time() {
    let mut core = SchedulerCore::new();
    assert!(core.set_cluster_paused(true, 0).is_empty());
    // Taken (a handover) at 4.5 s, during the pause, with its cursor at 2 s: the ticks at
    // 3 s and 4 s are within the grace, yet they must not wait to run as ordinary ticks.
    let actions = core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        2 * S,
        4 * S + 500,
    );
    assert!(
        actions.is_empty(),
        "nothing planned while paused: {actions:?}"
    );
    for t in 5..=6 {
        assert!(fire(&mut core, t * S).is_empty(), "nothing starts at {t} s");
    }
    // Resumed at 6.1 s: 3, 4 and 5 s are missed, 6 s runs once as catch-up.
    let actions = core.set_cluster_paused(false, 6 * S + 100);
    let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
    assert_eq!(missed, vec![3 * S, 4 * S, 5 * S]);
    assert_eq!(runs(&actions), vec![(6 * S, true)]);
}

#[test]
fn a_tick_that_cannot_be_recorded_is_re_planned_when_the_database_returns() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunAll),
        0,
        0,
    );
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    core.stalled("job", S, true);
    assert_eq!(core.stalled_jobs(), vec!["job".to_string()]);
    assert!(fire(&mut core, 5 * S).is_empty(), "no timer while stalled");
    // Back at 3 s: the unrecorded tick and the ones after it run, in order, once each.
    let actions = core.catch_up("job", 3 * S);
    let ran = drain(&mut core, runs(&actions));
    assert_eq!(
        ran.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![S, 2 * S, 3 * S]
    );
}

#[test]
fn an_edit_moves_the_anchor_and_re_arms_and_pause_disarms() {
    let mut core = SchedulerCore::new();
    core.take(
        spec(
            "@every 10s",
            OverlapPolicy::Skip,
            MisfirePolicy::RunOnce,
            Duration::from_secs(3600),
        ),
        0,
        0,
    );
    assert_eq!(core.next_deadline(), Some(10 * S));
    let mut edited = (*spec(
        "@every 3s",
        OverlapPolicy::Skip,
        MisfirePolicy::RunOnce,
        Duration::from_secs(3600),
    ))
    .clone();
    edited.version = 2;
    edited.anchor_ms = 4 * S;
    assert!(core.update(Arc::new(edited.clone()), 4 * S).is_empty());
    assert_eq!(core.next_deadline(), Some(6 * S));
    edited.paused = true;
    edited.version = 3;
    core.update(Arc::new(edited), 5 * S);
    assert_eq!(core.next_deadline(), None);
    assert!(core.remove("job").is_some());
    assert_eq!(core.job_count(), 0);
}

#[test]
fn a_hole_below_the_newest_recorded_tick_follows_the_misfire_policy() {
    // The previous owner recorded 11..=20 s but not 10 s (it waited behind a running tick).
    let recorded_after_hole: std::collections::BTreeSet<i64> = (11..=20).map(|t| t * S).collect();
    let now = 20 * S + 300;
    for (misfire, want_runs, want_missed) in [
        (MisfirePolicy::RunOnce, vec![(10 * S, true)], vec![]),
        (MisfirePolicy::RunAll, vec![(10 * S, true)], vec![]),
        (MisfirePolicy::Skip, vec![], vec![10 * S]),
    ] {
        let mut core = SchedulerCore::new();
        let actions = core.take_around(
            every_second(OverlapPolicy::Skip, misfire),
            10 * S - 1,
            recorded_after_hole.clone(),
            now,
        );
        assert_eq!(runs(&actions), want_runs, "{misfire:?}");
        let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
        assert_eq!(missed, want_missed, "{misfire:?}: nothing recorded twice");
        // The next tick is the first after the newest recorded one.
        assert_eq!(core.next_tick("job"), Some(21 * S), "{misfire:?}");
    }
    // With unrecorded ticks after the newest recorded one too, both gaps are planned: the
    // hole and 14 s missed, 15 s run once as catch-up, 16..=20 s as ordinary late ticks.
    let mut core = SchedulerCore::new();
    let actions = core.take_around(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        10 * S - 1,
        (11..=13).map(|t| t * S).collect(),
        now,
    );
    let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
    assert_eq!(missed, vec![10 * S, 14 * S]);
    assert_eq!(runs(&actions)[0], (15 * S, true));
}

#[test]
fn after_an_outage_ticks_recorded_anyway_are_not_planned_again() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        0,
        0,
    );
    for t in 1..=3 {
        assert_eq!(runs(&fire(&mut core, t * S)), vec![(t * S, false)]);
    }
    // 3 s could not be recorded; 4..=6 s were (their records went through).
    core.stalled("job", 3 * S, true);
    assert_eq!(core.stalled_cursors(), vec![("job".to_string(), 3 * S - 1)]);
    core.note_recorded("job", (4..=6).map(|t| t * S).collect());
    let actions = core.catch_up("job", 7 * S + 5 * S);
    let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
    assert_eq!(missed, vec![3 * S], "only the unrecorded tick is missed");
    assert_eq!(
        runs(&actions)[0],
        (7 * S, true),
        "the latest unrecorded late tick runs once"
    );

    // When every later late tick is recorded, the unrecorded one itself is the one run_once runs.
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        0,
        0,
    );
    for t in 1..=3 {
        fire(&mut core, t * S);
    }
    core.stalled("job", 3 * S, true);
    core.note_recorded("job", (4..=7).map(|t| t * S).collect());
    let actions = core.catch_up("job", 7 * S + 5 * S);
    assert!(recorded(&actions).is_empty());
    assert_eq!(runs(&actions)[0], (3 * S, true));
}

#[test]
fn a_retry_taken_up_counts_as_a_run_for_the_overlap_policy() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce),
        0,
        0,
    );
    let retry = core.retry("job", 0, 2, (false, false));
    assert!(matches!(
        retry,
        Some(Action::Retry {
            tick_ms: 0,
            attempt: 2,
            ..
        })
    ));
    // While the retry waits or runs, the next tick is skipped.
    assert_eq!(recorded(&fire(&mut core, S)), vec![(S, NotRun::Overlap)]);
    assert!(core.finished("job").is_empty());
    assert_eq!(runs(&fire(&mut core, 2 * S)), vec![(2 * S, false)]);
    assert!(
        core.retry("other", 0, 2, (false, false)).is_none(),
        "not held here"
    );
    core.set_cluster_paused(true, 2 * S);
    assert!(
        core.retry("job", 0, 2, (false, false)).is_none(),
        "the maintenance switch holds it"
    );
}
