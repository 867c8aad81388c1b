//! Misfire planning for every policy, including a 1-second job down for a year.

use std::time::{Duration, Instant};

use super::support::{at, sched, zone};
use crate::schedule::{CatchUpPlan, JobTiming, MisfirePolicy, plan_catch_up};

fn ms(s: &str) -> i64 {
    at(s).timestamp_millis()
}

fn timing(expr: &str, tz: &str) -> JobTiming {
    JobTiming::new(sched(expr), zone(tz), Duration::ZERO)
}

fn minutes(list: &[&str]) -> Vec<i64> {
    list.iter()
        .map(|t| ms(&format!("2025-01-01T{t}:00Z")))
        .collect()
}

/// `*/10 * * * *`, last tick 00:00, now 01:05: due 00:10 .. 01:00 (6 ticks);
/// a 25-minute window holds 00:40, 00:50 and 01:00.
fn ten_minute_plan(policy: MisfirePolicy, max_listed: usize) -> CatchUpPlan {
    plan_catch_up(
        &timing("*/10 * * * *", "UTC"),
        ms("2025-01-01T00:00:00Z"),
        ms("2025-01-01T01:05:00Z"),
        policy,
        Duration::from_secs(25 * 60),
        max_listed,
    )
}

#[test]
fn skip_misses_everything() {
    let plan = ten_minute_plan(MisfirePolicy::Skip, 100);
    assert_eq!(
        plan,
        CatchUpPlan {
            missed: minutes(&["00:10", "00:20", "00:30", "00:40", "00:50", "01:00"]),
            missed_truncated: 0,
            run: vec![],
            next: Some(ms("2025-01-01T01:10:00Z")),
        }
    );
}

#[test]
fn run_once_runs_the_latest_in_the_window() {
    let plan = ten_minute_plan(MisfirePolicy::RunOnce, 100);
    assert_eq!(
        plan.missed,
        minutes(&["00:10", "00:20", "00:30", "00:40", "00:50"])
    );
    assert_eq!(plan.run, minutes(&["01:00"]));
    assert_eq!(plan.missed_truncated, 0);
    assert_eq!(plan.next, Some(ms("2025-01-01T01:10:00Z")));
}

#[test]
fn run_all_runs_the_window_in_order() {
    let plan = ten_minute_plan(MisfirePolicy::RunAll, 100);
    assert_eq!(plan.missed, minutes(&["00:10", "00:20", "00:30"]));
    assert_eq!(plan.run, minutes(&["00:40", "00:50", "01:00"]));
}

#[test]
fn listing_is_capped_at_the_latest_missed() {
    let plan = ten_minute_plan(MisfirePolicy::RunOnce, 2);
    assert_eq!(plan.missed, minutes(&["00:40", "00:50"]));
    assert_eq!(plan.missed_truncated, 3);
    assert_eq!(plan.run, minutes(&["01:00"]));
    // run_all runs at most max_listed (the latest); older window ticks become missed.
    let plan = ten_minute_plan(MisfirePolicy::RunAll, 2);
    assert_eq!(plan.run, minutes(&["00:50", "01:00"]));
    assert_eq!(plan.missed, minutes(&["00:30", "00:40"]));
    assert_eq!(plan.missed_truncated, 2);
}

#[test]
fn ticks_older_than_the_window_are_missed_whatever_the_policy() {
    for policy in [
        MisfirePolicy::Skip,
        MisfirePolicy::RunOnce,
        MisfirePolicy::RunAll,
    ] {
        let plan = plan_catch_up(
            &timing("*/10 * * * *", "UTC"),
            ms("2025-01-01T00:00:00Z"),
            ms("2025-01-01T01:05:00Z"),
            policy,
            Duration::from_secs(60),
            100,
        );
        assert_eq!(plan.run, Vec::<i64>::new(), "{policy}");
        assert_eq!(plan.missed.len(), 6, "{policy}");
    }
    // The window boundary is inclusive: a tick exactly `window` ago is still within it.
    let plan = plan_catch_up(
        &timing("*/10 * * * *", "UTC"),
        ms("2025-01-01T00:00:00Z"),
        ms("2025-01-01T01:00:00Z"),
        MisfirePolicy::RunAll,
        Duration::from_secs(20 * 60),
        100,
    );
    assert_eq!(plan.run, minutes(&["00:40", "00:50", "01:00"]));
}

#[test]
fn nothing_due() {
    let t = timing("*/10 * * * *", "UTC");
    let plan = plan_catch_up(
        &t,
        ms("2025-01-01T00:00:00Z"),
        ms("2025-01-01T00:09:59Z"),
        MisfirePolicy::RunAll,
        Duration::from_secs(3600),
        10,
    );
    assert_eq!(
        plan,
        CatchUpPlan {
            missed: vec![],
            missed_truncated: 0,
            run: vec![],
            next: Some(ms("2025-01-01T00:10:00Z")),
        }
    );
    // A last tick ahead of now (clock skew) never plans it or anything before it again.
    let plan = plan_catch_up(
        &t,
        ms("2025-01-01T00:20:00Z"),
        ms("2025-01-01T00:15:00Z"),
        MisfirePolicy::RunAll,
        Duration::from_secs(3600),
        10,
    );
    assert!(plan.run.is_empty() && plan.missed.is_empty());
    assert_eq!(plan.next, Some(ms("2025-01-01T00:30:00Z")));
}

#[test]
fn every_and_dst_aware_cron_catch_up() {
    // New York fall back: `*/30 * * * *` is real-time, so the repeated hour adds two ticks.
    let plan = plan_catch_up(
        &timing("*/30 * * * *", "America/New_York"),
        ms("2025-11-02T04:59:00Z"),
        ms("2025-11-02T07:00:00Z"),
        MisfirePolicy::RunAll,
        Duration::from_secs(86_400),
        100,
    );
    let expected: Vec<i64> = ["05:00", "05:30", "06:00", "06:30", "07:00"]
        .iter()
        .map(|t| ms(&format!("2025-11-02T{t}:00Z")))
        .collect();
    assert_eq!(plan.run, expected);
    let plan = plan_catch_up(
        &timing("@every 45m", "Europe/Berlin"),
        ms("2025-11-02T05:00:00Z"),
        ms("2025-11-02T07:00:00Z"),
        MisfirePolicy::RunOnce,
        Duration::from_secs(3600),
        100,
    );
    // Due: 05:15, 06:00, 06:45; the window starts at 06:00.
    assert_eq!(
        plan.missed,
        vec![ms("2025-11-02T05:15:00Z"), ms("2025-11-02T06:00:00Z")]
    );
    assert_eq!(plan.run, vec![ms("2025-11-02T06:45:00Z")]);
    assert_eq!(plan.next, Some(ms("2025-11-02T07:30:00Z")));
}

/// A 1-second job down for a whole year plans quickly and counts exactly.
#[test]
fn one_second_job_down_for_a_year() {
    let last = ms("2025-01-01T00:00:00Z");
    let now = ms("2026-01-01T00:00:00Z");
    let year_seconds = 365 * 86_400u64;
    for (expr, tz) in [
        ("@every 1s", "UTC"),
        ("* * * * * *", "UTC"),
        // Real-time mode: exactly one tick per second even across both Berlin transitions.
        ("* * * * * *", "Europe/Berlin"),
        ("* * * * * *", "Australia/Lord_Howe"),
    ] {
        for policy in [
            MisfirePolicy::Skip,
            MisfirePolicy::RunOnce,
            MisfirePolicy::RunAll,
        ] {
            let started = Instant::now();
            let plan = plan_catch_up(
                &timing(expr, tz),
                last,
                now,
                policy,
                Duration::from_secs(3600),
                1000,
            );
            let took = started.elapsed();
            println!("{expr} in {tz}, {policy}: planned a year of ticks in {took:?}");
            let run = plan.run.len() as u64;
            assert_eq!(
                plan.missed.len() as u64 + plan.missed_truncated + run,
                year_seconds,
                "{expr} {tz} {policy}"
            );
            assert_eq!(plan.missed.len(), 1000);
            let expected_run = match policy {
                MisfirePolicy::Skip => 0,
                MisfirePolicy::RunOnce => 1,
                MisfirePolicy::RunAll => 1000,
            };
            assert_eq!(run, expected_run);
            let all: Vec<i64> = plan.missed.iter().chain(&plan.run).copied().collect();
            assert!(
                all.windows(2).all(|w| w[1] - w[0] == 1000),
                "consecutive seconds"
            );
            assert_eq!(*all.last().unwrap(), now);
            assert_eq!(plan.next, Some(now + 1000));
            assert!(
                took < Duration::from_millis(500),
                "{expr} {tz} {policy} took {took:?}"
            );
        }
    }
}

/// Wall-clock mode counts the collapsed spring-forward tick once and the repeated hour once.
#[test]
fn wall_clock_counting_over_a_year_in_berlin() {
    let t = timing("* * 2 * * *", "Europe/Berlin");
    let (last, now) = (ms("2024-12-31T23:00:00Z"), ms("2025-12-31T23:00:00Z"));
    // 363 ordinary days of 3600 ticks, the spring day with 1, the fall day with 3600.
    assert_eq!(t.count_ticks_ms(last, now), 364 * 3600 + 1);
    let plan = plan_catch_up(&t, last, now, MisfirePolicy::Skip, Duration::ZERO, 3);
    assert_eq!(plan.missed_truncated + 3, 364 * 3600 + 1);
    assert_eq!(
        plan.missed,
        vec![
            ms("2025-12-31T01:59:57Z"),
            ms("2025-12-31T01:59:58Z"),
            ms("2025-12-31T01:59:59Z")
        ]
    );
}
