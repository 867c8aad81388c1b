//! Re-planning a job around the ticks the database has, or may have, already: a job taken
//! again under a new epoch with a hole below its newest recorded tick, and a job stalled by a
//! database outage while later ticks of it were still being recorded.

use std::sync::Arc;

use super::core::{NotRun, SchedulerCore};
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

#[test]
fn after_an_outage_ticks_whose_records_are_still_on_their_way_are_planned_around() {
    let mut core = SchedulerCore::new();
    core.take(
        every_second(OverlapPolicy::Allow, MisfirePolicy::RunOnce),
        0,
        0,
    );
    // Every tick up to 7 s is handed to a run; the database crawls, and the records of 3..=5 s
    // fail (it is unreachable by then), while those of 6 s and 7 s are still on their way.
    for t in 1..=7 {
        assert_eq!(runs(&fire(&mut core, t * S)), vec![(t * S, false)]);
    }
    for t in 3..=5 {
        core.stalled("job", t * S, true);
    }
    // The database is back before the records of 6 s and 7 s land: read now, they are not
    // recorded yet, but they will be (or their runs stall too, and the job is re-planned from
    // them). Run_once runs 5 s, the latest late tick that no run has, and misses 3 s and 4 s;
    // choosing 7 s would leave the gap without its catch-up once the ordinary run of 7 s is
    // recorded.
    let actions = core.catch_up("job", 12 * S + 300);
    let missed: Vec<i64> = recorded(&actions).iter().map(|(t, _)| *t).collect();
    assert_eq!(missed, vec![3 * S, 4 * S]);
    assert_eq!(runs(&actions)[0], (5 * S, true));
    assert!(
        !runs(&actions).contains(&(6 * S, false)) && !runs(&actions).contains(&(7 * S, false)),
        "the ticks whose runs are under way are not handed out again"
    );
}

#[test]
fn after_an_outage_ticks_due_while_a_run_is_in_progress_follow_the_overlap_policy() {
    for overlap in [
        OverlapPolicy::Skip,
        OverlapPolicy::Queue,
        OverlapPolicy::Allow,
    ] {
        let mut core = SchedulerCore::new();
        core.take(every_second(overlap, MisfirePolicy::RunOnce), 0, 0);
        // A long run of 1 s (a slow plugin, or one waiting for its retries) is in progress
        // when the database becomes unreachable: 2 s cannot be recorded (under allow, it is a
        // run whose record fails; otherwise a skip whose record fails).
        assert_eq!(runs(&fire(&mut core, S)), vec![(S, false)]);
        let second = fire(&mut core, 2 * S);
        let was_run = !runs(&second).is_empty();
        core.stalled("job", 2 * S, was_run);
        // Back at 4.5 s, the run of 1 s still in progress: 2 s to 4 s are within the misfire
        // grace, and came due during that run, so the overlap policy decides, as it would have
        // had their timers fired in time. Queued behind the run instead, they would wait for
        // it however long it lasts, unrecorded.
        let actions = core.catch_up("job", 4 * S + 500);
        let (ran, not_run) = (runs(&actions), recorded(&actions));
        let after = runs(&core.finished("job"));
        match overlap {
            OverlapPolicy::Skip => {
                assert!(ran.is_empty() && after.is_empty(), "{ran:?} {after:?}");
                assert_eq!(
                    not_run,
                    (2..=4)
                        .map(|t| (t * S, NotRun::Overlap))
                        .collect::<Vec<_>>()
                );
            }
            OverlapPolicy::Queue => {
                // One waits (the first), the others are skipped.
                assert!(ran.is_empty());
                assert_eq!(
                    not_run,
                    (3..=4)
                        .map(|t| (t * S, NotRun::Overlap))
                        .collect::<Vec<_>>()
                );
                assert_eq!(after, vec![(2 * S, false)]);
            }
            OverlapPolicy::Allow => {
                // They run beside it, as before the outage.
                assert!(not_run.is_empty());
                assert_eq!(ran, vec![(2 * S, false)]);
                assert_eq!(after, vec![(3 * S, false)]);
            }
        }
    }
}

#[test]
fn a_jittered_job_taken_between_its_ticks_instant_and_its_own_waits_for_its_own() {
    // A minute job delayed by its jitter: the tick of minute 1 fires at 60 s + delay.
    let mut spec = (*every_second(OverlapPolicy::Skip, MisfirePolicy::RunOnce)).clone();
    spec.timing = crate::schedule::JobTiming::new(
        crate::schedule::Schedule::parse("* * * * *").unwrap(),
        chrono_tz::UTC,
        std::time::Duration::from_secs(60),
    );
    let delay = spec.timing.fire_delay(&spec.id).as_millis() as i64;
    assert!(
        delay > 2 * S,
        "the test needs a delay past the grace: {delay}"
    );
    let spec = Arc::new(spec);
    let mut core = SchedulerCore::new();
    // Taken 1 s after minute 1's instant, before its own: nothing is late, nothing runs yet.
    let actions = core.take(spec.clone(), 0, 61 * S);
    assert!(runs(&actions).is_empty(), "{:?}", runs(&actions));
    assert!(recorded(&actions).is_empty(), "{:?}", recorded(&actions));
    assert_eq!(core.next_deadline(), Some(60 * S + delay));
    assert_eq!(
        runs(&fire(&mut core, 60 * S + delay)),
        vec![(60 * S, false)]
    );
    core.finished("job");
    // Taken 3 minutes on, past minute 2's own instant and before minute 3's: minute 2 is the
    // one run_once runs late; minute 3 waits for its instant.
    let mut again = (*spec).clone();
    again.epoch = 2;
    let actions = core.take(Arc::new(again), 60 * S, 180 * S + delay - 1);
    assert_eq!(runs(&actions), vec![(120 * S, true)]);
    core.finished("job");
    assert_eq!(core.next_deadline(), Some(180 * S + delay));
}
