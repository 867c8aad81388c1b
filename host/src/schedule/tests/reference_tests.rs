//! Cross-check of the DST rules against a brute-force reference that walks every minute
//! around real transitions and applies the documented rules literally:
//!
//! - real-time mode: a tick at every instant whose wall clock matches;
//! - wall-clock mode: a tick at every instant whose wall clock passes a matching local time it
//!   never showed before (all matching times in a gap fire at the instant the gap ends).

use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::strategies::{ZONES, cron_expression};
use super::support::zone;
use crate::schedule::kind::Kind;
use crate::schedule::{DstMode, Schedule};

fn wall(tz: Tz, t: i64) -> NaiveDateTime {
    let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
    utc + chrono::Duration::seconds(i64::from(
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
    ))
}

/// Offset changes between 2024 and 2027, found by hourly probes and bisection.
fn transitions(tz: Tz) -> Vec<i64> {
    let off = |t: i64| wall(tz, t).and_utc().timestamp() - t;
    let mut found = Vec::new();
    let mut t = 1_704_067_200; // 2024-01-01
    while t < 1_798_761_600 {
        // 2027-01-01
        if off(t + 3600) != off(t) {
            let (mut lo, mut hi) = (t, t + 3600);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if off(mid) == off(lo) {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            found.push(hi);
        }
        t += 3600;
    }
    found
}

fn matches(s: &Schedule, local: NaiveDateTime) -> bool {
    let Kind::Cron { spec, .. } = s.kind() else {
        unreachable!()
    };
    spec.date_matches(local.date())
        && spec.hours & (1 << local.hour()) != 0
        && spec.minutes & (1 << local.minute()) != 0
        && spec.seconds & (1 << local.second()) != 0
}

/// Brute-force ticks in `[from, to)` for a schedule without seconds.
fn reference_ticks(s: &Schedule, tz: Tz, from: i64, to: i64) -> Vec<i64> {
    let mut ticks = Vec::new();
    match s.dst_mode() {
        DstMode::RealTime => {
            for t in (from..to).step_by(60) {
                if matches(s, wall(tz, t)) {
                    ticks.push(t);
                }
            }
        }
        DstMode::WallClock => {
            // The highest wall clock shown before `from` (a day back covers any transition).
            let mut high = (from - 86_400..from)
                .step_by(60)
                .map(|t| wall(tz, t))
                .max()
                .unwrap();
            for t in (from..to).step_by(60) {
                let w = wall(tz, t);
                if w > high {
                    let mut l = high + chrono::Duration::minutes(1);
                    let mut due = false;
                    while l <= w {
                        due |= matches(s, l);
                        l += chrono::Duration::minutes(1);
                    }
                    if due {
                        ticks.push(t);
                    }
                    high = w;
                }
            }
        }
    }
    ticks
}

fn check_window(s: &Schedule, tz: Tz, from: i64, to: i64) -> Result<(), TestCaseError> {
    let expected = reference_ticks(s, tz, from, to);
    let after = DateTime::from_timestamp(from - 1, 0).unwrap();
    let got: Vec<i64> = s
        .iter_after(after, tz)
        .map(|t| t.timestamp())
        .take_while(|t| *t < to)
        .collect();
    prop_assert_eq!(&got, &expected, "{} in {} from {}", s, tz, after);
    prop_assert_eq!(
        s.count_ticks_ms((from - 1) * 1000, (to - 1) * 1000, tz),
        expected.len() as u64,
        "count of {} in {}",
        s,
        tz
    );
    Ok(())
}

fn five_field() -> impl Strategy<Value = String> {
    cron_expression().prop_map(|e| {
        let fields: Vec<&str> = e.split_whitespace().collect();
        fields[fields.len() - 5..].join(" ")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn dst_rules_match_the_brute_force_reference(
        expr in five_field(),
        // Bias the hour field towards the transition hours so they actually match.
        hour in prop_oneof![Just(None), (0u32..4).prop_map(Some)],
        zone_index in 0..ZONES.len(),
        pick in any::<prop::sample::Index>(),
        shift in -7200i64..7200,
    ) {
        let expr = match hour {
            Some(h) => {
                let mut f: Vec<&str> = expr.split_whitespace().collect();
                let hours = format!("{h},{}", h + 1);
                f[1] = &hours;
                f.join(" ")
            }
            None => expr,
        };
        let Ok(s) = Schedule::parse(&expr) else { return Ok(()) };
        let tz = zone(ZONES[zone_index]);
        let changes = transitions(tz);
        let centre = if changes.is_empty() {
            1_750_000_000
        } else {
            changes[pick.index(changes.len())]
        };
        // Windows start anywhere from 2 hours before to 2 hours after the transition, so
        // they also begin inside gaps and repeated hours.
        let from = (centre + shift) / 60 * 60;
        check_window(&s, tz, from, from + 2 * 86_400)?;
    }
}

#[test]
fn reference_agrees_on_the_documented_examples() {
    let berlin = zone("Europe/Berlin");
    let lord_howe = zone("Australia/Lord_Howe");
    for expr in [
        "30 2 * * *",
        "*/15 * * * *",
        "0 * * * *",
        "*/20 2 * * *",
        "0,30 2,3 * * *",
    ] {
        let s = Schedule::parse(expr).unwrap();
        for t in transitions(berlin) {
            check_window(&s, berlin, t / 60 * 60 - 86_400, t + 86_400).unwrap();
        }
        for t in transitions(lord_howe) {
            check_window(&s, lord_howe, t / 60 * 60 - 86_400, t + 86_400).unwrap();
        }
    }
}
