//! Speed checks: next-tick computation must jump, never scan.
//!
//! Bounds are generous in debug builds (they only catch algorithmic regressions such as
//! scanning every second) and strict in release builds:
//! `cargo test --release -p wasmcron --lib schedule::tests::perf -- --nocapture`.

use std::time::{Duration, Instant};

use super::support::{at, sched, zone};

fn per_call(expr: &str, tz: &str, calls: u32) -> Duration {
    let s = sched(expr);
    let tz = zone(tz);
    let started = Instant::now();
    let n = s
        .iter_after(at("2025-03-29T00:00:00Z"), tz)
        .take(calls as usize)
        .count();
    assert_eq!(n, calls as usize);
    started.elapsed() / calls
}

fn limit(release: Duration, debug: Duration) -> Duration {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

#[test]
fn one_second_schedules_are_fast() {
    for (expr, tz) in [
        ("* * * * * *", "UTC"),
        ("* * * * * *", "Europe/Berlin"),
        ("@every 1s", "Europe/Berlin"),
        ("* * 2 * * *", "Europe/Berlin"),
    ] {
        let d = per_call(expr, tz, 200_000);
        println!("{expr:>14} in {tz:<14}: {d:?} per tick");
        assert!(
            d < limit(Duration::from_micros(1), Duration::from_micros(25)),
            "{expr} in {tz}: {d:?} per tick"
        );
    }
}

#[test]
fn sparse_schedules_jump_field_by_field() {
    for (expr, tz) in [
        ("0 0 1 1 *", "Europe/Berlin"),
        ("0 0 29 2 *", "America/New_York"),
        ("0 0 13 * FRI", "UTC"),
        ("59 59 23 31 12 *", "Australia/Lord_Howe"),
        ("* * * 29 2 *", "Europe/Berlin"),
    ] {
        let d = per_call(expr, tz, 200);
        println!("{expr:>18} in {tz:<19}: {d:?} per tick");
        assert!(
            d < limit(Duration::from_micros(200), Duration::from_millis(5)),
            "{expr} in {tz}: {d:?} per tick"
        );
    }
}
