//! Overlap decisions, policy names and jitter.

use std::time::Duration;

use super::support::{sched, zone};
use crate::schedule::{JobTiming, MisfirePolicy, OverlapDecision, OverlapPolicy, decide_overlap};

#[test]
fn overlap_decisions_for_every_policy() {
    use OverlapDecision::{Queue, Run, Skip};
    let cases = [
        // (policy, in flight, queued) -> decision
        (OverlapPolicy::Skip, false, false, Run),
        (OverlapPolicy::Skip, true, false, Skip),
        (OverlapPolicy::Skip, true, true, Skip),
        (OverlapPolicy::Allow, false, false, Run),
        (OverlapPolicy::Allow, true, false, Run),
        (OverlapPolicy::Allow, true, true, Run),
        (OverlapPolicy::Queue, false, false, Run),
        (OverlapPolicy::Queue, true, false, Queue),
        (OverlapPolicy::Queue, true, true, Skip),
        (OverlapPolicy::Queue, false, true, Run),
    ];
    for (policy, in_flight, queued, decision) in cases {
        assert_eq!(
            decide_overlap(policy, in_flight, queued),
            decision,
            "{policy} in_flight={in_flight} queued={queued}"
        );
    }
}

#[test]
fn policy_names_round_trip() {
    for p in [
        OverlapPolicy::Skip,
        OverlapPolicy::Allow,
        OverlapPolicy::Queue,
    ] {
        assert_eq!(p.to_string().parse::<OverlapPolicy>().unwrap(), p);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            format!("\"{p}\""),
            "serde uses the same snake_case names"
        );
    }
    for p in [
        MisfirePolicy::Skip,
        MisfirePolicy::RunOnce,
        MisfirePolicy::RunAll,
    ] {
        assert_eq!(p.to_string().parse::<MisfirePolicy>().unwrap(), p);
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        assert_eq!(
            serde_json::from_str::<MisfirePolicy>(&format!("\"{p}\"")).unwrap(),
            p
        );
    }
    assert_eq!(MisfirePolicy::RunOnce.to_string(), "run_once");
    assert_eq!(MisfirePolicy::RunAll.to_string(), "run_all");
    assert_eq!(OverlapPolicy::default(), OverlapPolicy::Skip);
    assert_eq!(MisfirePolicy::default(), MisfirePolicy::RunOnce);
}

#[test]
fn fire_delay_is_deterministic_and_below_jitter() {
    let t = JobTiming::new(sched("*/5 * * * *"), zone("UTC"), Duration::from_secs(30));
    let mut distinct = std::collections::BTreeSet::new();
    for i in 0..200 {
        let id = format!("job-{i}");
        let d = t.fire_delay(&id);
        assert!(d < Duration::from_secs(30));
        assert_eq!(d, t.fire_delay(&id), "same id, same delay");
        assert_eq!(d.subsec_nanos() % 1_000_000, 0, "whole milliseconds");
        distinct.insert(d);
    }
    assert!(distinct.len() > 150, "delays spread over the range");
    // Pinned value: the delay must not change between builds, platforms or replicas.
    assert_eq!(
        t.fire_delay("nightly-report"),
        Duration::from_millis(22_990)
    );
    let no_jitter = JobTiming::new(sched("@hourly"), zone("UTC"), Duration::ZERO);
    assert_eq!(no_jitter.fire_delay("anything"), Duration::ZERO);
    let tiny = JobTiming::new(sched("@hourly"), zone("UTC"), Duration::from_micros(900));
    assert_eq!(tiny.fire_delay("anything"), Duration::ZERO);
}

#[test]
fn tick_identity_is_the_nominal_instant() {
    let t = JobTiming::new(sched("*/5 * * * *"), zone("UTC"), Duration::from_secs(60));
    let tick = t.next_tick_ms(0).unwrap();
    assert_eq!(tick, 300_000, "jitter does not move the nominal instant");
    assert_eq!(
        t.fire_at_ms(tick, "job-a"),
        tick + t.fire_delay("job-a").as_millis() as i64
    );
    assert_eq!(t.next_tick_ms(tick), Some(600_000));
}
