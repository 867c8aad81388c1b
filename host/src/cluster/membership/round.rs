//! One membership round: heartbeat, then claim this replica's fair share of the jobs without
//! a live owner, or hand its surplus to replicas below their share ([`super::super::balance`],
//! [`super::super::handoff`]), renew the housekeeping lease, and reconcile the scheduler.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::{Membership, ORPHAN_PATIENCE};
use crate::cluster::balance;
use crate::store::StoreError;
use crate::store::ownership::Ownership;

/// Most jobs one claim statement takes (about 0.7 s at 100,000 jobs on PostgreSQL); the share
/// is computed again between them.
const CLAIM_CHUNK: i64 = 10_000;

impl Membership {
    pub(super) async fn round(&self) -> Result<(), StoreError> {
        let sent = Instant::now();
        let now = self.heartbeat().await?;
        self.clock.sync(now, sent);
        self.health.set_registered();
        if !self.shared.announced.swap(true, Ordering::Relaxed) {
            // Peers rebalance towards a replica that joins as soon as they hear of it.
            let _ = self
                .store
                .notify_cluster_changed(&self.options.instance_id)
                .await;
        }
        if self.shared.leaving.load(Ordering::Acquire) {
            return Ok(());
        }
        // This round reconciles every job: what was named since is seen by it.
        let _ = self.signal.take_changes();
        let me = self.options.instance_id.as_str();
        let view = self.store.ownership(self.dead_after_ms()).await?;
        if view.orphans > 0 {
            let rounds = self.shared.orphan_rounds.fetch_add(1, Ordering::Relaxed);
            self.claim_orphans(&view, rounds).await?;
        } else {
            self.shared.orphan_rounds.store(0, Ordering::Relaxed);
            let mine: Vec<balance::Move> = balance::moves(&view)
                .into_iter()
                .filter(|m| m.from == me)
                .collect();
            if !mine.is_empty() {
                self.start_handoff(mine);
            }
        }
        self.leadership
            .renew(self.options.dead_after)
            .await
            .unwrap_or_else(|e| tracing::debug!(error = %e, "cannot renew the housekeeping lease"));
        self.reconcile().await
    }

    /// Claim this replica's share of the jobs without a live owner in `view`, after `rounds`
    /// rounds in a row with some: [`CLAIM_CHUNK`] at a time, the share computed again from a
    /// fresh view after each, so replicas that register meanwhile (a cluster starting
    /// together) are counted in it and claim their part alongside. Claimed in one go, the
    /// first replica to look took every job and then handed two thirds of them on.
    async fn claim_orphans(&self, view: &Ownership, rounds: u32) -> Result<(), StoreError> {
        let me = self.options.instance_id.as_str();
        let mut view = view.clone();
        loop {
            let due = balance::claim_limit(&view, me, rounds, ORPHAN_PATIENCE);
            let limit = due.min(CLAIM_CHUNK);
            if limit == 0 {
                return Ok(());
            }
            let claimed = self
                .store
                .claim_jobs_limited(me, self.dead_after_ms(), Some(limit))
                .await?;
            if !claimed.is_empty() {
                crate::metrics::global().claimed(claimed.len() as u64);
                tracing::info!(count = claimed.len(), "claimed jobs without a live owner");
            }
            // Done when the share is claimed (no need to look again) or none are left.
            if limit == due || (claimed.len() as i64) < limit {
                return Ok(());
            }
            view = self.store.ownership(self.dead_after_ms()).await?;
        }
    }

    pub(super) fn dead_after_ms(&self) -> i64 {
        self.options.dead_after.as_millis() as i64
    }

    /// Whether jobs lost their owner since the last look (a peer crashed, left or stopped
    /// heartbeating), or jobs without an owner came or went and stayed so ([`OrphanProbe`]).
    pub(super) async fn orphans_changed(&self) -> bool {
        match self.store.orphan_summary(self.dead_after_ms()).await {
            Ok(summary) => self
                .shared
                .orphans
                .lock()
                .expect("orphans lock")
                .changed(summary),
            Err(_) => false,
        }
    }
}

/// Who, as the orphan probe saw it, left jobs without a live owner: `(dead instance, jobs)`,
/// then `(None, jobs without an owner)`.
type OrphanSummary = Vec<(Option<String>, i64)>;

/// The orphan probe's memory: the dead owners a round was last called for, the count of jobs
/// without an owner that stayed, and that count at the last look.
#[derive(Debug, Default)]
pub(crate) struct OrphanProbe {
    dead: OrphanSummary,
    unowned: i64,
    seen_unowned: i64,
}

impl OrphanProbe {
    /// Whether `summary` calls for a round: a dead owner's jobs changed (at once), or jobs
    /// without an owner came and stayed for one look. A job just written has no owner until
    /// the replica it was written through claims it (milliseconds): a round of every replica
    /// for each such job would cost each write a look at every job.
    fn changed(&mut self, summary: OrphanSummary) -> bool {
        let (dead, unowned): (OrphanSummary, OrphanSummary) =
            summary.into_iter().partition(|(owner, _)| owner.is_some());
        let now: i64 = unowned.iter().map(|(_, n)| n).sum();
        let mut fire = dead != self.dead;
        self.dead = dead;
        if now == self.seen_unowned && now != self.unowned {
            self.unowned = now;
            fire |= now > 0;
        }
        self.seen_unowned = now;
        fire
    }
}

#[cfg(test)]
mod tests {
    use super::OrphanProbe;

    fn unowned(n: i64) -> Vec<(Option<String>, i64)> {
        vec![(None, n)]
    }

    #[test]
    fn a_dead_owner_calls_for_a_round_at_once() {
        let mut probe = OrphanProbe::default();
        assert!(!probe.changed(unowned(0)));
        assert!(probe.changed(vec![(Some("b".into()), 5), (None, 0)]));
        assert!(!probe.changed(vec![(Some("b".into()), 5), (None, 0)]));
        assert!(probe.changed(unowned(0)));
    }

    #[test]
    fn jobs_without_an_owner_call_for_a_round_once_they_stay() {
        let mut probe = OrphanProbe::default();
        assert!(!probe.changed(unowned(0)));
        // Claimed before the next look: no round.
        assert!(!probe.changed(unowned(1)));
        assert!(!probe.changed(unowned(0)));
        // Still there at the next look: one round.
        assert!(!probe.changed(unowned(2)));
        assert!(probe.changed(unowned(2)));
        assert!(!probe.changed(unowned(2)));
        // Claimed by that round or a later one: nothing left to claim, no round; more later
        // call for one again.
        assert!(!probe.changed(unowned(0)));
        assert!(!probe.changed(unowned(0)));
        assert!(!probe.changed(unowned(2)));
        assert!(probe.changed(unowned(2)));
    }
}
