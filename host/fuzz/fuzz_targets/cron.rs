//! The cron parser and the next-tick computations: any text parses or is refused, and for a
//! schedule that parses, ticks from any instant in any zone obey their invariants (the next
//! tick is later; counting and indexing agree with it; a catch-up plan stays in its bounds).
//!
//! Input: 8 bytes of instant, 8 of span, 2 of zone index, 1 of policy, then the expression.

#![no_main]

use std::time::Duration;

use chrono_tz::TZ_VARIANTS;
use libfuzzer_sys::fuzz_target;
use wasmcron::schedule::{JobTiming, MisfirePolicy, Schedule, plan_catch_up};

/// Instants of interest: year 1 to year 10000, in milliseconds.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_387_199_999;

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = N.min(data.len());
    out[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    out
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let after = i64::from_le_bytes(take(&mut data)).clamp(MIN_MS, MAX_MS);
    let span = i64::from_le_bytes(take(&mut data)).rem_euclid(400 * 86_400_000);
    let zone = TZ_VARIANTS[usize::from(u16::from_le_bytes(take(&mut data))) % TZ_VARIANTS.len()];
    let policy = match take::<1>(&mut data)[0] % 3 {
        0 => MisfirePolicy::Skip,
        1 => MisfirePolicy::RunOnce,
        _ => MisfirePolicy::RunAll,
    };
    let Ok(expr) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schedule) = Schedule::parse(expr) else {
        return;
    };
    let _ = schedule.describe();
    // What parses is shown normalised, and the normalised form parses to the same schedule.
    let shown = schedule.to_string();
    let again = Schedule::parse(&shown).expect("the normalised form parses");
    assert_eq!(again.to_string(), shown);

    let upto = after.saturating_add(span).min(MAX_MS);
    let next = schedule.next_tick_ms(after, zone);
    if let Some(next) = next {
        assert!(
            next > after,
            "next tick {next} not after {after} for {expr:?} in {zone}"
        );
    }
    let count = schedule.count_ticks_ms(after, upto, zone);
    let first = schedule.nth_tick_ms(after, upto, 0, zone);
    match next {
        Some(next) if next <= upto => {
            assert!(
                count >= 1,
                "{expr:?} in {zone}: tick {next} in ({after}, {upto}] not counted"
            );
            assert_eq!(
                first,
                Some(next),
                "{expr:?} in {zone}: first of ({after}, {upto}]"
            );
        }
        _ => {
            assert_eq!(
                count, 0,
                "{expr:?} in {zone}: ticks counted in ({after}, {upto}] but none next"
            );
            assert_eq!(first, None);
        }
    }
    if count > 1 {
        let last = schedule.nth_tick_ms(after, upto, count - 1, zone);
        let last = last.expect("the last counted tick exists");
        assert!(last > after && last <= upto);
        assert_eq!(schedule.nth_tick_ms(after, upto, count, zone), None);
    }

    let timing = JobTiming::new(schedule, zone, Duration::ZERO);
    let plan = plan_catch_up(
        &timing,
        after,
        upto,
        policy,
        Duration::from_millis(span as u64 / 2),
        16,
    );
    assert!(plan.missed.len() <= 16 && plan.run.len() <= 16);
    assert!(
        plan.run
            .iter()
            .chain(&plan.missed)
            .all(|t| *t > after && *t <= upto)
    );
});
