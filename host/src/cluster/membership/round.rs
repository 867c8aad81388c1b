//! One membership round: heartbeat, then claim this replica's fair share of the jobs without
//! a live owner, or hand its surplus to replicas below their share ([`super::super::balance`],
//! [`super::super::handoff`]), renew the housekeeping lease, and reconcile the scheduler.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::{Membership, ORPHAN_PATIENCE};
use crate::cluster::balance;
use crate::store::StoreError;

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
        let dead_after = self.options.dead_after.as_millis() as i64;
        let me = self.options.instance_id.as_str();
        let view = self.store.ownership(dead_after).await?;
        if view.orphans > 0 {
            let rounds = self.shared.orphan_rounds.fetch_add(1, Ordering::Relaxed);
            let limit = balance::claim_limit(&view, me, rounds, ORPHAN_PATIENCE);
            if limit > 0 {
                let claimed = self
                    .store
                    .claim_jobs_limited(me, dead_after, Some(limit))
                    .await?;
                if !claimed.is_empty() {
                    crate::metrics::global().claimed(claimed.len() as u64);
                    tracing::info!(count = claimed.len(), "claimed jobs without a live owner");
                }
            }
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

    /// Whether jobs lost their owner since the last look (a peer crashed, left or stopped
    /// heartbeating, or a job is new).
    pub(super) async fn orphans_changed(&self) -> bool {
        let dead_after = self.options.dead_after.as_millis() as i64;
        match self.store.orphan_summary(dead_after).await {
            Ok(summary) => {
                let mut last = self.shared.last_orphans.lock().expect("orphans lock");
                let changed = *last != summary;
                if changed {
                    *last = summary;
                }
                changed
            }
            Err(_) => false,
        }
    }
}
