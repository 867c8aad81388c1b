//! Handing jobs to another live replica without a missed or doubled tick: the giver stops
//! scheduling each job (its timer stops at once), waits for the job's runs in flight to finish,
//! then moves the job in SQL to the named receiver (owner set, epoch bumped — only if the giver
//! still owns it under the epoch it held) and notifies it. The receiver takes the job at once
//! and its catch-up runs any tick that came due meanwhile as an ordinary tick (it is less than
//! the misfire grace late). Used to rebalance towards a joining replica, and on graceful
//! shutdown to give every job to the peers.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use super::balance::{self, Move};
use super::membership::Membership;

/// How long a handoff waits for more jobs to be released before moving a batch.
const BATCH_WINDOW: Duration = Duration::from_millis(20);

impl Membership {
    /// Hand jobs to peers per `moves` (all from this replica), in the background; one handoff
    /// at a time.
    pub(super) fn start_handoff(&self, moves: Vec<Move>) {
        if self.shared.handoff_busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let plan = this
                .pick(moves.iter().map(|m| (m.to.clone(), m.count)))
                .await;
            let within = this.options.dead_after;
            let handed = this.hand_off(plan, Instant::now() + within).await;
            if handed > 0 {
                tracing::info!(handed, "rebalanced: jobs handed to peers below their share");
            }
            this.shared.handoff_busy.store(false, Ordering::Release);
            this.poke_local();
        });
    }

    /// Graceful shutdown: hand every job this replica schedules to the live peers (the least
    /// loaded first) within `within`; returns `(handed over, peers)`. With no live peer
    /// nothing is handed over: the last replica standing keeps its jobs.
    pub async fn hand_off_all(&self, within: Duration) -> (usize, usize) {
        let deadline = Instant::now() + within;
        self.shared.leaving.store(true, Ordering::Release);
        // Let a rebalancing handoff in progress finish first.
        while self.shared.handoff_busy.swap(true, Ordering::AcqRel) {
            if Instant::now() > deadline {
                return (0, 0);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let dead_after = self.options.dead_after.as_millis() as i64;
        let me = self.options.instance_id.clone();
        let peers: Vec<(String, i64)> = match self.store.ownership(dead_after).await {
            Ok(view) => view.live.into_iter().filter(|(id, _)| *id != me).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list peers to hand jobs to");
                Vec::new()
            }
        };
        let mut handed = 0;
        if !peers.is_empty() {
            let held = self.scheduler.versions().await.len() as i64;
            let plan = self.pick(balance::spread(&peers, held)).await;
            handed = self.hand_off(plan, deadline).await;
        }
        self.shared.handoff_busy.store(false, Ordering::Release);
        (handed, peers.len())
    }

    /// Choose which held jobs go to whom: `(receiver, how many)` → `(receiver, job ids)`.
    async fn pick(
        &self,
        wanted: impl IntoIterator<Item = (String, i64)>,
    ) -> Vec<(String, Vec<String>)> {
        let busy = self
            .shared
            .handing_over
            .lock()
            .expect("handover lock")
            .clone();
        let mut held: Vec<String> = self
            .scheduler
            .versions()
            .await
            .into_iter()
            .map(|(id, _, _)| id)
            .filter(|id| !busy.contains(id))
            .collect();
        held.sort();
        let mut held = held.into_iter();
        wanted
            .into_iter()
            .map(|(to, n)| {
                (
                    to,
                    held.by_ref().take(n.max(0) as usize).collect::<Vec<_>>(),
                )
            })
            .filter(|(_, ids)| !ids.is_empty())
            .collect()
    }

    /// Release each job from the scheduler and move it to its receiver as soon as its runs
    /// in flight have finished, in batches; stop waiting at `deadline`. Returns how many
    /// jobs were handed over. Jobs that could not be moved are scheduled here again by the
    /// next reconcile (if this replica still owns them).
    async fn hand_off(&self, plan: Vec<(String, Vec<String>)>, deadline: Instant) -> usize {
        let me = self.options.instance_id.clone();
        let mut pending: HashSet<String> = plan.iter().flat_map(|(_, ids)| ids.clone()).collect();
        self.shared
            .handing_over
            .lock()
            .expect("handover lock")
            .extend(pending.iter().cloned());
        let mut releases: FuturesUnordered<_> = plan
            .into_iter()
            .flat_map(|(to, ids)| ids.into_iter().map(move |id| (to.clone(), id)))
            .map(|(to, id)| {
                let scheduler = self.scheduler.clone();
                async move {
                    let epoch = scheduler.release(&id).await;
                    (to, id, epoch)
                }
            })
            .collect();
        let mut handed = 0;
        loop {
            let first = match tokio::time::timeout_at(deadline, releases.next()).await {
                Ok(next) => next,
                Err(_) => {
                    tracing::warn!(
                        waiting = releases.len(),
                        "jobs still running when the handoff ended; they stay here"
                    );
                    break;
                }
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            let window = tokio::time::sleep(BATCH_WINDOW);
            tokio::pin!(window);
            loop {
                tokio::select! {
                    _ = &mut window => break,
                    next = releases.next() => match next {
                        Some(item) => batch.push(item),
                        None => break,
                    },
                }
            }
            let mut by_receiver: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
            let mut done: HashSet<String> = HashSet::new();
            for (to, id, epoch) in batch {
                pending.remove(&id);
                done.insert(id.clone());
                if let Some(epoch) = epoch {
                    by_receiver.entry(to).or_default().push((id, epoch));
                }
            }
            for (to, jobs) in by_receiver {
                match self.store.hand_over(&me, &to, &jobs).await {
                    Ok(moved) => {
                        handed += moved.len();
                        crate::metrics::global().handed_off(moved.len() as u64);
                        tracing::debug!(to = %to, moved = moved.len(), "jobs handed over");
                        let _ = self.store.notify_cluster_changed(&to).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, to = %to, "cannot hand jobs over; keeping them")
                    }
                }
            }
            self.shared
                .handing_over
                .lock()
                .expect("handover lock")
                .retain(|id| !done.contains(id));
        }
        // Released late (or never): the next reconcile schedules them here again.
        self.shared
            .handing_over
            .lock()
            .expect("handover lock")
            .retain(|id| !pending.contains(id));
        handed
    }
}
