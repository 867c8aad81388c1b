//! Misfire planning: what to do with the ticks that came due while nobody ran the job.

use std::time::Duration;

use super::policy::MisfirePolicy;
use super::timing::JobTiming;

/// What the scheduler does when it (re)takes a job or comes back after an outage.
///
/// The due ticks, in order, split into a prefix that is missed and a suffix that runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatchUpPlan {
    /// The most recent missed ticks (Unix ms, ascending), at most `max_listed`; record each as
    /// `missed`.
    pub missed: Vec<i64>,
    /// How many older missed ticks are not listed in `missed`.
    pub missed_truncated: u64,
    /// Ticks to run now with catch-up = true, oldest first.
    pub run: Vec<i64>,
    /// The first tick strictly after `now_ms` (and after `last_tick_ms`).
    pub next: Option<i64>,
}

/// Plans the catch-up of the ticks in `(last_tick_ms, now_ms]`.
///
/// Ticks older than `now_ms - catchup_window` are always missed. Within the window:
/// [`MisfirePolicy::Skip`] misses all; [`MisfirePolicy::RunOnce`] runs the latest and misses
/// the others; [`MisfirePolicy::RunAll`] runs them all in order, but at most `max_listed` (the
/// latest ones; older ones are missed). `missed` lists at most `max_listed` ticks (the latest);
/// `missed_truncated` counts the rest.
///
/// The work is bounded by `max_listed` and the number of DST transitions in the gap, never by
/// the number of due ticks: counting and skipping are arithmetic (a 1-second job down for a
/// year plans in well under a millisecond of counting).
pub fn plan_catch_up(
    timing: &JobTiming,
    last_tick_ms: i64,
    now_ms: i64,
    policy: MisfirePolicy,
    catchup_window: Duration,
    max_listed: usize,
) -> CatchUpPlan {
    let next = timing.next_tick_ms(now_ms.max(last_tick_ms));
    let total = timing.count_ticks_ms(last_tick_ms, now_ms);
    if total == 0 {
        return CatchUpPlan {
            next,
            ..CatchUpPlan::default()
        };
    }
    let window_ms = i64::try_from(catchup_window.as_millis()).unwrap_or(i64::MAX);
    // Ticks at or after `window_start` are within the window.
    let window_start = now_ms.saturating_sub(window_ms);
    let in_window = timing.count_ticks_ms(last_tick_ms.max(window_start.saturating_sub(1)), now_ms);
    let cap = max_listed as u64;
    let run_count = match policy {
        MisfirePolicy::Skip => 0,
        MisfirePolicy::RunOnce => in_window.min(1),
        MisfirePolicy::RunAll => in_window.min(cap),
    };
    let missed_count = total - run_count;
    let listed = missed_count.min(cap);
    let wanted = (listed + run_count) as usize;
    let mut ticks = Vec::with_capacity(wanted);
    let mut cursor = timing.nth_tick_ms(last_tick_ms, now_ms, missed_count - listed);
    while let Some(t) = cursor {
        if ticks.len() == wanted || t > now_ms {
            break;
        }
        ticks.push(t);
        cursor = timing.next_tick_ms(t);
    }
    let run = ticks.split_off((listed as usize).min(ticks.len()));
    CatchUpPlan {
        missed: ticks,
        missed_truncated: missed_count - listed,
        run,
        next,
    }
}
