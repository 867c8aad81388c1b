//! Keeping the scheduler's set of held jobs equal to what the database says this replica owns:
//! new and edited jobs are (re)taken, lost and deleted ones dropped; a job taken over starts its
//! catch-up from its newest recorded tick, and a tick the previous owner left unrecorded below
//! it is found and handed to the misfire policy. After a database outage, the ticks recorded
//! anyway are reported before the stalled jobs are re-planned.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::{MAX_HOLE_SCAN, Membership};
use crate::jobs::{JobSpec, Origin};
use crate::scheduler::Command;
use crate::store::StoreError;
use crate::store::takeover::TakenJob;

/// At most this many jobs are taken over in one go (one set of statements).
const TAKE_CHUNK: usize = 5_000;

impl Membership {
    /// Make the scheduler hold exactly the jobs this replica owns, at their current versions
    /// (jobs being handed over aside).
    pub async fn reconcile(&self) -> Result<(), StoreError> {
        crate::metrics::global().reconciled("all");
        let owned = self
            .store
            .owned_job_versions(&self.options.instance_id)
            .await?;
        let (held, handing_over) = self.held_now().await;
        let mut owned_ids = HashSet::new();
        let mut to_take = Vec::new();
        for (id, version, epoch) in owned {
            owned_ids.insert(id.clone());
            if handing_over.contains(&id) {
                continue;
            }
            match held.get(&id) {
                Some(&(v, e)) if v == version && e == epoch => continue,
                Some(&(_, e)) if e == epoch => {
                    if let Some(job) = self.store.get_job(&id).await? {
                        match JobSpec::from_job(&job) {
                            Ok(spec) => self.scheduler.send(Command::Update(Arc::new(spec))),
                            Err(e) => {
                                tracing::error!(job = %job.name, error = %e, "stored job is invalid; not scheduled")
                            }
                        }
                    }
                }
                _ => to_take.push(id),
            }
        }
        for id in held.keys() {
            if !owned_ids.contains(id) {
                tracing::info!(job_id = %id, "job no longer owned here (deleted or moved)");
                self.scheduler.send(Command::Drop(id.clone()));
            }
        }
        self.take(&to_take).await
    }

    /// Make the scheduler hold the jobs named (written since the last look) as the database
    /// has them now: taken or updated when owned here, dropped when not (deleted or moved). A
    /// job written here that has no owner (a new one) is claimed here at once, by its id; the
    /// next round evens the counts out if that leaves this replica above its share (and should
    /// it stay unowned, the orphan probe calls a round). The other jobs are left alone: a
    /// write costs a look at the jobs it touched, not at every job owned or every job there is.
    pub(super) async fn reconcile_jobs(
        &self,
        ids: &BTreeMap<String, Origin>,
    ) -> Result<(), StoreError> {
        crate::metrics::global().reconciled("written");
        let me = self.options.instance_id.as_str();
        let mut jobs = Vec::with_capacity(ids.len());
        for (id, origin) in ids {
            jobs.push((id, *origin, self.store.get_job(id).await?));
        }
        let new: Vec<String> = jobs
            .iter()
            .filter(|(_, origin, job)| {
                *origin == Origin::Here && job.as_ref().is_some_and(|j| j.owner.is_none())
            })
            .map(|(id, _, _)| (*id).clone())
            .collect();
        if !new.is_empty() && !self.shared.leaving.load(Ordering::Acquire) {
            let claimed = self.store.claim_unowned(me, &new).await?;
            if !claimed.is_empty() {
                crate::metrics::global().claimed(claimed.len() as u64);
                for (id, _, job) in jobs.iter_mut() {
                    if claimed.contains(id) {
                        *job = self.store.get_job(id).await?;
                    }
                }
            }
        }
        let (held, handing_over) = self.held_now().await;
        let mut to_take = Vec::new();
        for (id, _, job) in jobs {
            match job {
                Some(job) if job.owner.as_deref() == Some(me) => {
                    if handing_over.contains(id) {
                        continue;
                    }
                    match held.get(id) {
                        Some(&(v, e)) if v == job.version && e == job.epoch => {}
                        Some(&(_, e)) if e == job.epoch => match JobSpec::from_job(&job) {
                            Ok(spec) => self.scheduler.send(Command::Update(Arc::new(spec))),
                            Err(e) => {
                                tracing::error!(job = %job.name, error = %e, "stored job is invalid; not scheduled")
                            }
                        },
                        _ => to_take.push(id.clone()),
                    }
                }
                _ if held.contains_key(id) => {
                    tracing::info!(job_id = %id, "job no longer owned here (deleted or moved)");
                    self.scheduler.send(Command::Drop(id.clone()));
                }
                _ => {}
            }
        }
        self.take(&to_take).await
    }

    /// `(job, (version, epoch))` of every job the scheduler holds, and the jobs being handed
    /// over (owned here still, not to be scheduled here again).
    async fn held_now(&self) -> (HashMap<String, (i64, i64)>, HashSet<String>) {
        let held = self
            .scheduler
            .versions()
            .await
            .into_iter()
            .map(|(id, v, e)| (id, (v, e)))
            .collect();
        let handing_over = self
            .shared
            .handing_over
            .lock()
            .expect("handover lock")
            .clone();
        (held, handing_over)
    }

    /// Start scheduling jobs this replica owns now: runs their previous owner left running are
    /// recorded abandoned, and each job's catch-up starts from its newest recorded tick.
    pub(super) async fn take(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() || self.shared.leaving.load(Ordering::Acquire) {
            return Ok(());
        }
        // In chunks, heartbeating between them when a heartbeat interval has gone by: taking
        // tens of thousands of jobs at once (a start, a peer's crash) takes seconds, and a
        // replica that went quiet that long would look dead to its peers, who would claim
        // its jobs back.
        let mut beat = Instant::now();
        for (i, chunk) in ids.chunks(TAKE_CHUNK).enumerate() {
            if i > 0 && beat.elapsed() >= self.options.heartbeat_interval {
                let sent = Instant::now();
                let now = self.heartbeat().await?;
                self.clock.sync(now, sent);
                beat = Instant::now();
            }
            self.take_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn take_chunk(&self, ids: &[String]) -> Result<(), StoreError> {
        let taken = self.store.take_over(&self.options.instance_id, ids).await?;
        if taken.len() > 1 {
            tracing::info!(count = taken.len(), "scheduling jobs owned here now");
        }
        for t in taken {
            let spec = match JobSpec::from_job(&t.job) {
                Ok(spec) => spec,
                Err(e) => {
                    tracing::error!(job = %t.job.name, error = %e, "stored job is invalid; not scheduled");
                    continue;
                }
            };
            let mut last_accounted_ms = t.last_tick_ms.unwrap_or(i64::MIN);
            let mut recorded = BTreeSet::new();
            if let Some((hole, after_hole)) = self.find_hole(&t, &spec).await? {
                tracing::warn!(job = %t.job.name, tick = hole, "a tick below the newest recorded one was never recorded (it waited on the previous owner); the misfire policy applies to it");
                last_accounted_ms = hole - 1;
                recorded = after_hole;
            }
            self.scheduler.send(Command::Take {
                spec: Arc::new(spec),
                last_accounted_ms,
                recorded,
            });
        }
        Ok(())
    }

    /// Before the jobs stalled by a database outage are re-planned: tell the scheduler which
    /// of their ticks after the stall were recorded anyway (runs whose record went through
    /// before the outage was noticed), so the misfire policy applies to the others only.
    /// False when no job is stalled.
    pub(super) async fn note_recorded_while_stalled(&self) -> bool {
        let stalled = self.scheduler.stalled().await;
        if stalled.is_empty() {
            return false;
        }
        tracing::info!(
            jobs = stalled.len(),
            "re-planning jobs stalled by a database outage"
        );
        match self.store.recorded_after(&stalled).await {
            Ok(recorded) => {
                for (job_id, ticks) in recorded {
                    self.scheduler.send(Command::Recorded { job_id, ticks });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the ticks recorded during the outage; the re-planning finds them by their unique key")
            }
        }
        true
    }

    /// The oldest tick of a taken-over job that lies below its newest recorded tick (within
    /// [`crate::store::takeover::HOLE_LOOKBACK_MS`]) and has no row, with the ticks recorded after it. A previous owner
    /// can leave one when a tick waited in its memory (queued behind a running one, or its
    /// record pending during a database outage) while a later tick was recorded.
    async fn find_hole(
        &self,
        taken: &TakenJob,
        spec: &JobSpec,
    ) -> Result<Option<(i64, BTreeSet<i64>)>, StoreError> {
        let (Some(last), Some(from)) = (taken.last_tick_ms, taken.window_from_ms()) else {
            return Ok(None);
        };
        let expected = spec.timing.count_ticks_ms(from, last);
        if expected <= taken.recorded_in_window.max(0) as u64 || expected > MAX_HOLE_SCAN {
            return Ok(None);
        }
        let recorded: BTreeSet<i64> = self
            .store
            .recorded_after(&[(spec.id.clone(), from)])
            .await?
            .remove(&spec.id)
            .unwrap_or_default();
        let mut tick = spec.timing.next_tick_ms(from);
        while let Some(t) = tick.filter(|t| *t <= last) {
            if !recorded.contains(&t) {
                return Ok(Some((t, recorded.range(t..).copied().collect())));
            }
            tick = spec.timing.next_tick_ms(t);
        }
        Ok(None)
    }
}
