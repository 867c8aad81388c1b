//! Property tests: the parser never panics or hangs, ticks strictly increase, and counting
//! and skipping agree with enumeration.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::strategies::{any_expression, cron_expression, near_valid, zone_name};
use super::support::zone;
use crate::schedule::Schedule;

/// Instants from 1970 to 2100 with a random fraction of a second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).unwrap())
}

fn parse_quickly(text: &str) -> Result<Schedule, crate::schedule::ScheduleError> {
    let started = Instant::now();
    let result = Schedule::parse(text);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "parsing {text:?} took {:?}",
        started.elapsed()
    );
    result
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse_quickly(&text);
        let _ = parse_quickly(&format!("@every {text}"));
    }

    #[test]
    fn parser_never_panics_on_near_valid_text(text in near_valid()) {
        if let Ok(s) = parse_quickly(&text) {
            // The normalized form parses back to the same schedule.
            prop_assert_eq!(Schedule::parse(&s.to_string()), Ok(s.clone()));
            prop_assert!(!s.describe().is_empty());
        }
    }

    #[test]
    fn generated_fields_parse_or_fail_cleanly(expr in cron_expression()) {
        match parse_quickly(&expr) {
            Ok(s) => prop_assert_eq!(Schedule::parse(&s.to_string()), Ok(s.clone())),
            Err(e) => prop_assert!(e.to_string().contains("never fires"), "{}", e),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn ticks_strictly_increase(expr in any_expression(), tz in zone_name(), start in instant()) {
        let Ok(s) = Schedule::parse(&expr) else { return Ok(()) };
        let tz = zone(tz);
        let mut prev = start;
        for t in s.iter_after(start, tz).take(25) {
            prop_assert!(t > prev, "{} in {}: {} then {}", expr, tz, prev, t);
            prop_assert_eq!(s.next_after(prev, tz), Some(t));
            prev = t;
        }
    }

    #[test]
    fn counting_and_skipping_agree_with_enumeration(
        expr in any_expression(),
        tz in zone_name(),
        start in instant(),
        pick in any::<prop::sample::Index>(),
    ) {
        let Ok(s) = Schedule::parse(&expr) else { return Ok(()) };
        let tz = zone(tz);
        let after = start.timestamp_millis();
        let listed: Vec<i64> = s
            .iter_after(start, tz)
            .take(40)
            .map(|t| t.timestamp_millis())
            .collect();
        let Some(&last) = listed.last() else { return Ok(()) };
        prop_assert_eq!(s.count_ticks_ms(after, last, tz), listed.len() as u64, "{} in {}", expr, tz);
        prop_assert_eq!(s.count_ticks_ms(after, last - 1, tz), listed.len() as u64 - 1);
        let k = pick.index(listed.len());
        prop_assert_eq!(s.nth_tick_ms(after, last, k as u64, tz), Some(listed[k]), "{} in {}", expr, tz);
        prop_assert_eq!(s.nth_tick_ms(after, last - 1, listed.len() as u64 - 1, tz), None);
        for pair in listed.windows(2) {
            prop_assert_eq!(s.next_tick_ms(pair[0], tz), Some(pair[1]));
        }
    }
}
