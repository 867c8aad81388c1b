//! Fair shares of jobs among live replicas, computed the same way by every replica from the
//! same snapshot ([`Ownership`]) — pure functions.
//!
//! Every replica's target is `total / replicas` jobs, and `total % replicas` of them (the most
//! loaded ones, ties broken by instance id) get one more: targets differ by at most one and sum
//! to the total, and the replicas already holding more keep the extra job (fewer moves). A
//! replica claims jobs without a live owner up to its target; once every job has a live owner,
//! replicas above their target hand their surplus to replicas below theirs, matched in instance
//! id order so that concurrent givers do not pile onto the same receiver.

use std::collections::BTreeMap;

use crate::store::ownership::Ownership;

/// Each live replica's fair number of jobs, by instance id.
pub fn targets(view: &Ownership) -> BTreeMap<String, i64> {
    let replicas = view.live.len() as i64;
    let mut targets = BTreeMap::new();
    if replicas == 0 {
        return targets;
    }
    let total = view.total();
    let (base, extra) = (total / replicas, total % replicas);
    let mut by_load: Vec<&(String, i64)> = view.live.iter().collect();
    by_load.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (rank, (id, _)) in by_load.into_iter().enumerate() {
        targets.insert(id.clone(), base + i64::from((rank as i64) < extra));
    }
    targets
}

/// How many jobs `instance` should claim from the jobs without a live owner now. When the
/// replicas that should take them do not (one is stopped but not yet declared dead), a replica
/// that has seen orphans for `patience` rounds in a row also takes up to the rounded-up share;
/// rebalancing evens that out later.
pub fn claim_limit(view: &Ownership, instance: &str, orphan_rounds: u32, patience: u32) -> i64 {
    if view.orphans == 0 || !view.is_live(instance) {
        return 0;
    }
    let mine = view.count(instance);
    let target = targets(view).get(instance).copied().unwrap_or(0);
    let due = (target - mine).max(0);
    if due == 0 && orphan_rounds >= patience {
        let replicas = view.live.len() as i64;
        let ceil = (view.total() + replicas - 1) / replicas;
        return (ceil - mine).clamp(0, view.orphans);
    }
    due.min(view.orphans)
}

/// Jobs to move from one replica to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub count: i64,
}

/// The moves that bring every live replica to its target. Only meaningful once every job has
/// a live owner (orphans are claimed first), so none are planned while there are orphans.
pub fn moves(view: &Ownership) -> Vec<Move> {
    if view.orphans > 0 {
        return Vec::new();
    }
    let targets = targets(view);
    let mut surplus: Vec<(String, i64)> = Vec::new();
    let mut deficit: Vec<(String, i64)> = Vec::new();
    for (id, count) in &view.live {
        let target = targets[id];
        if *count > target {
            surplus.push((id.clone(), count - target));
        } else if *count < target {
            deficit.push((id.clone(), target - count));
        }
    }
    let mut plan = Vec::new();
    let (mut g, mut r) = (0, 0);
    while g < surplus.len() && r < deficit.len() {
        let n = surplus[g].1.min(deficit[r].1);
        plan.push(Move {
            from: surplus[g].0.clone(),
            to: deficit[r].0.clone(),
            count: n,
        });
        surplus[g].1 -= n;
        deficit[r].1 -= n;
        if surplus[g].1 == 0 {
            g += 1;
        }
        if deficit[r].1 == 0 {
            r += 1;
        }
    }
    plan
}

/// Where to send `count` jobs of a replica that is leaving: to the least loaded of `peers`
/// (id, jobs) one job at a time, ties by id; returns `(peer, jobs)` with jobs > 0.
pub fn spread(peers: &[(String, i64)], count: i64) -> Vec<(String, i64)> {
    let mut load: Vec<(String, i64, i64)> =
        peers.iter().map(|(id, n)| (id.clone(), *n, 0)).collect();
    if load.is_empty() {
        return Vec::new();
    }
    for _ in 0..count {
        let least = load
            .iter_mut()
            .min_by(|a, b| (a.1 + a.2).cmp(&(b.1 + b.2)).then_with(|| a.0.cmp(&b.0)))
            .expect("peers");
        least.2 += 1;
    }
    load.into_iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|(id, _, n)| (id, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(live: &[(&str, i64)], orphans: i64) -> Ownership {
        Ownership {
            live: live.iter().map(|(id, n)| (id.to_string(), *n)).collect(),
            orphans,
        }
    }

    fn apply(view: &mut Ownership, moves: &[Move]) {
        for m in moves {
            for (id, n) in view.live.iter_mut() {
                if *id == m.from {
                    *n -= m.count;
                }
                if *id == m.to {
                    *n += m.count;
                }
            }
        }
    }

    fn spread_ok(view: &Ownership) -> bool {
        let max = view.live.iter().map(|x| x.1).max().unwrap();
        let min = view.live.iter().map(|x| x.1).min().unwrap();
        max - min <= 1
    }

    #[test]
    fn targets_differ_by_at_most_one_and_sum_to_the_total() {
        let v = view(&[("a", 7), ("b", 0), ("c", 3)], 1);
        let t = targets(&v);
        assert_eq!(t.values().sum::<i64>(), 11);
        assert_eq!(t["a"], 4, "the most loaded keeps the extra job");
        assert_eq!(t["b"], 3);
        assert_eq!(t["c"], 4);
    }

    #[test]
    fn a_dead_replicas_jobs_are_spread_over_all_survivors() {
        // c died holding 100 jobs: a and b claim 50 each.
        let v = view(&[("a", 100), ("b", 100)], 100);
        assert_eq!(claim_limit(&v, "a", 0, 2), 50);
        assert_eq!(claim_limit(&v, "b", 0, 2), 50);
        assert!(
            moves(&v).is_empty(),
            "no rebalancing while jobs are orphaned"
        );
    }

    #[test]
    fn a_new_job_goes_to_one_replica_and_others_claim_it_only_after_patience() {
        let v = view(&[("a", 10), ("b", 10)], 1);
        assert_eq!(claim_limit(&v, "a", 0, 2), 1);
        assert_eq!(claim_limit(&v, "b", 0, 2), 0);
        assert_eq!(claim_limit(&v, "b", 2, 2), 1, "a seems stuck: b takes it");
    }

    #[test]
    fn a_joining_replica_gets_its_share_from_everyone_without_overshoot() {
        let mut v = view(&[("a", 150), ("b", 150), ("c", 0)], 0);
        let plan = moves(&v);
        assert_eq!(
            plan,
            vec![
                Move {
                    from: "a".into(),
                    to: "c".into(),
                    count: 50
                },
                Move {
                    from: "b".into(),
                    to: "c".into(),
                    count: 50
                },
            ]
        );
        apply(&mut v, &plan);
        assert!(spread_ok(&v));
        assert!(moves(&v).is_empty(), "balanced: nothing more to move");
    }

    #[test]
    fn uneven_totals_balance_within_one() {
        for total in 0..40 {
            for replicas in 1..6 {
                let mut live: Vec<(&str, i64)> = ["a", "b", "c", "d", "e"][..replicas]
                    .iter()
                    .map(|id| (*id, 0))
                    .collect();
                live[0].1 = total;
                let mut v = view(&live, 0);
                let plan = moves(&v);
                apply(&mut v, &plan);
                assert!(spread_ok(&v), "{total} over {replicas}: {v:?}");
                assert!(moves(&v).is_empty());
            }
        }
    }

    #[test]
    fn a_leaving_replica_fills_the_least_loaded_peers_first() {
        let plan = spread(&[("a".into(), 10), ("b".into(), 7)], 5);
        assert_eq!(plan, vec![("a".into(), 1), ("b".into(), 4)]);
        assert!(spread(&[], 3).is_empty());
    }
}
