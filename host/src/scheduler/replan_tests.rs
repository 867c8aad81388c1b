//! Re-planning a job around the ticks the database has, or may have, already: a job taken
//! again under a new epoch with a hole below its newest recorded tick, and a job stalled by a
//! database outage while later ticks of it were still being recorded.

use std::sync::Arc;

use super::core::SchedulerCore;
use super::tests::{S, every_second, fire, recorded, runs};
use crate::schedule::{MisfirePolicy, OverlapPolicy};

#[test]
fn a_job_taken_again_under_a_new_epoch_plans_around_the_ticks_recorded_meanwhile() {
    let mut core = SchedulerCore::new();
    let spec = every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce);
    core.take(spec.clone(), 0, 0);
    assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
    core.finished("job");
    assert_eq!(runs(&fire(&mut core, 2 * S)), vec![(2 * S, false)]);
    core.finished("job");
    // 3 s cannot be recorded: this replica is cut off from the database, still holding the
    // job. Another replica takes it over and records 4..=8 s (skipped for overlap behind a run
    // it retried); the job comes back here under a new epoch with a hole at 3 s.
    assert_eq!(runs(&fire(&mut core, 3 * S)), vec![(3 * S, false)]);
    core.stalled("job", 3 * S, true);
    let mut again = (*spec).clone();
    again.epoch = 2;
    let recorded_meanwhile = (4..=8).map(|t| t * S).collect();
    let actions = core.take_around(Arc::new(again), 3 * S - 1, recorded_meanwhile, 12 * S + 300);
    // Ticks 3..=7 s are late: 4..=7 s are recorded already, so 3 s is the one run_once runs;
    // nothing is recorded missed, and 8 s (recorded) is not run again.
    assert!(recorded(&actions).is_empty(), "{:?}", recorded(&actions));
    assert_eq!(runs(&actions), vec![(3 * S, true)]);
    let mut later = Vec::new();
    while let Some(&(tick, catch_up)) = runs(&core.finished("job")).first() {
        later.push((tick, catch_up));
    }
    assert_eq!(
        later,
        (9..=12).map(|t| (t * S, false)).collect::<Vec<_>>(),
        "the recent unrecorded ticks run in order"
    );
}
