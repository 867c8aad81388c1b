//! The membership loop of one replica: heartbeat (an upsert stamped by the database clock, so
//! a replica that was declared dead re-registers; on PostgreSQL through its session, see
//! [`crate::store::session`]), claim its fair share of the jobs that have no live owner, hand
//! its surplus to replicas below their share ([`super::balance`], [`super::handoff`]), renew
//! the housekeeping lease ([`super::leader`]), and reconcile the scheduler with what this
//! replica owns (new, edited, lost and deleted jobs).
//!
//! Between heartbeats it polls, a few times a second, who left jobs without a live owner, so a
//! crashed peer's jobs are claimed within about a second; on PostgreSQL it also listens for
//! change notifications (job writes on any replica, a replica joining, jobs handed over) and
//! reacts at once.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::balance;
use super::health::Health;
use super::leader::Leadership;
use crate::scheduler::{Command, DbClock, JobSpec, SchedulerHandle};
use crate::store::session::Session;
use crate::store::takeover::TakenJob;
use crate::store::{Store, StoreError};

/// Rounds in a row with orphaned jobs after which a replica at its share claims one more.
const ORPHAN_PATIENCE: u32 = 2;

/// Jobs with more ticks than this in the hole-check window are not scanned tick by tick.
const MAX_HOLE_SCAN: u64 = 5_000;

/// How often, at most, the orphan probe runs between heartbeats.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Membership settings.
#[derive(Clone, Debug)]
pub struct MembershipOptions {
    pub instance_id: String,
    pub address: String,
    pub heartbeat_interval: Duration,
    pub dead_after: Duration,
}

/// State shared by the loop, the handoff task and the handle.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// The database session (PostgreSQL) that carries heartbeats.
    session: tokio::sync::Mutex<Option<Session>>,
    /// Jobs being handed to a peer: owned here still, but no longer scheduled here.
    pub(super) handing_over: Mutex<HashSet<String>>,
    /// A handoff task is running.
    pub(super) handoff_busy: AtomicBool,
    /// Rounds in a row that saw orphaned jobs.
    orphan_rounds: AtomicU32,
    /// Shutting down: no claims, no rebalancing, no new jobs scheduled.
    pub(super) leaving: AtomicBool,
    /// Registered at least once (the first heartbeat announces the replica).
    announced: AtomicBool,
    /// The last orphan summary seen.
    last_orphans: Mutex<Vec<(Option<String>, i64)>>,
}

/// The membership loop and its handle for pokes (a job changed on this replica).
#[derive(Clone, Debug)]
pub struct Membership {
    pub(super) store: Store,
    pub(super) options: MembershipOptions,
    clock: DbClock,
    pub(super) scheduler: SchedulerHandle,
    health: Arc<Health>,
    poke: Arc<Notify>,
    pub(super) shared: Arc<Shared>,
    pub(super) leadership: Leadership,
}

impl Membership {
    pub fn new(
        store: Store,
        options: MembershipOptions,
        clock: DbClock,
        scheduler: SchedulerHandle,
        health: Arc<Health>,
    ) -> Self {
        let leadership = Leadership::new(store.clone(), options.instance_id.clone());
        Membership {
            store,
            options,
            clock,
            scheduler,
            health,
            poke: Arc::new(Notify::new()),
            shared: Arc::new(Shared::default()),
            leadership,
        }
    }

    /// A job was created or changed through this replica: reconcile here now, and tell the
    /// other replicas (PostgreSQL `NOTIFY`) so that its owner applies the change at once.
    pub fn poke(&self) {
        self.poke_local();
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.notify_job_changed("").await {
                tracing::debug!(error = %e, "cannot notify peers of a job change; they reconcile periodically");
            }
        });
    }

    /// Reconcile here now (nothing is sent to peers).
    pub fn poke_local(&self) {
        self.poke.notify_one();
    }

    /// This replica's id.
    pub fn instance_id(&self) -> &str {
        &self.options.instance_id
    }

    /// Whether this replica holds the housekeeping lease (the cluster's leader).
    pub fn is_leader(&self) -> bool {
        self.leadership.epoch().is_some()
    }

    /// The leadership of this replica (housekeeping lease).
    pub fn leadership(&self) -> &Leadership {
        &self.leadership
    }

    /// Heartbeat, claim, balance and reconcile every heartbeat interval — sooner when poked,
    /// notified, or when a peer's jobs lose their owner — until `stop`.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let (listen_stop, listen_rx) = tokio::sync::watch::channel(false);
        let listener = tokio::spawn(self.clone().listen(listen_rx));
        let mut failures = 0u32;
        loop {
            match self.round().await {
                Ok(()) => {
                    if failures > 0 {
                        tracing::info!("database reachable again");
                    }
                    // Jobs stalled by an outage are re-planned once the database answers: at
                    // the first round after it, and at any later round (a tick whose record
                    // timed out only after the database was back stalls its job then).
                    if self.note_recorded_while_stalled().await {
                        self.scheduler.send(Command::DatabaseBack);
                    }
                    failures = 0;
                    self.health.set_database(true);
                }
                Err(e) => {
                    failures += 1;
                    if self.health.set_database(false) {
                        tracing::error!(error = %e, "database unreachable; ticks wait for it (misfire policy applies on return)");
                    }
                }
            }
            let wait = if failures == 0 {
                self.options.heartbeat_interval
            } else {
                // Back off, but never past the heartbeat interval: return promptly.
                (Duration::from_millis(250) * 2u32.saturating_pow(failures.min(4)))
                    .min(self.options.heartbeat_interval)
            };
            let next_round = Instant::now() + wait;
            let probe = PROBE_INTERVAL.min(self.options.heartbeat_interval);
            loop {
                tokio::select! {
                    _ = &mut stop => {
                        let _ = listen_stop.send(true);
                        let _ = listener.await;
                        return;
                    }
                    _ = tokio::time::sleep_until(next_round) => break,
                    _ = self.poke.notified() => break,
                    _ = tokio::time::sleep(probe), if failures == 0 => {
                        if self.orphans_changed().await {
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Whether jobs lost their owner since the last look (a peer crashed, left or stopped
    /// heartbeating, or a job is new).
    async fn orphans_changed(&self) -> bool {
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

    /// Listen for change notifications (PostgreSQL) and poke the loop for each.
    async fn listen(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut listener = loop {
            match self.store.listen().await {
                Ok(Some(listener)) => break listener,
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot listen for changes yet");
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                next = listener.next() => next,
            };
            match next {
                Ok(Some((channel, payload))) => {
                    tracing::trace!(%channel, %payload, "change notification");
                }
                // Reconnected: notifications may have been missed.
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "change notifications interrupted");
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            self.poke_local();
        }
    }

    /// Heartbeat through the session (PostgreSQL), reopening it when it was lost; through the
    /// pool on SQLite.
    async fn heartbeat(&self) -> Result<i64, StoreError> {
        let id = &self.options.instance_id;
        let version = env!("CARGO_PKG_VERSION");
        let mut session = self.shared.session.lock().await;
        for attempt in 0..2 {
            if session.is_none() {
                match self.store.open_session(id).await? {
                    Some(opened) => *session = Some(opened),
                    None => {
                        return self
                            .store
                            .heartbeat(id, &self.options.address, version)
                            .await;
                    }
                }
            }
            let s = session.as_mut().expect("session");
            match s.heartbeat(&self.options.address, version).await {
                Ok(now) => return Ok(now),
                Err(e) => {
                    // The session is gone (or stuck): drop it and open a new one.
                    if let Some(old) = session.take() {
                        tokio::spawn(old.close());
                    }
                    if attempt == 1 {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "database session lost; opening a new one");
                }
            }
        }
        unreachable!("the loop returns")
    }

    async fn round(&self) -> Result<(), StoreError> {
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

    /// Make the scheduler hold exactly the jobs this replica owns, at their current versions
    /// (jobs being handed over aside).
    pub async fn reconcile(&self) -> Result<(), StoreError> {
        let owned = self
            .store
            .owned_job_versions(&self.options.instance_id)
            .await?;
        let held: HashMap<String, (i64, i64)> = self
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

    /// Start scheduling jobs this replica owns now: runs their previous owner left running are
    /// recorded abandoned, and each job's catch-up starts from its newest recorded tick.
    async fn take(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() || self.shared.leaving.load(Ordering::Acquire) {
            return Ok(());
        }
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
            if let Some((hole, recorded)) = self.find_hole(&t, &spec).await? {
                tracing::warn!(job = %t.job.name, tick = hole, "a tick below the newest recorded one was never recorded (it waited on the previous owner); the misfire policy applies to it");
                last_accounted_ms = hole - 1;
                self.scheduler.send(Command::Recorded {
                    job_id: spec.id.clone(),
                    ticks: recorded,
                });
            }
            self.scheduler.send(Command::Take {
                spec: Arc::new(spec),
                last_accounted_ms,
            });
        }
        Ok(())
    }

    /// Before the jobs stalled by a database outage are re-planned: tell the scheduler which
    /// of their ticks after the stall were recorded anyway (runs whose record went through
    /// before the outage was noticed), so the misfire policy applies to the others only.
    /// False when no job is stalled.
    async fn note_recorded_while_stalled(&self) -> bool {
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

    /// Leave the cluster (graceful shutdown, after the jobs were handed over): give up the
    /// housekeeping lease, deregister, and end the session.
    pub async fn leave(&self) {
        self.leadership.resign().await;
        if let Err(e) = self.store.leave(&self.options.instance_id).await {
            tracing::warn!(error = %e, "cannot deregister");
        }
        let _ = self
            .store
            .notify_cluster_changed(&self.options.instance_id)
            .await;
        if let Some(session) = self.shared.session.lock().await.take() {
            session.close().await;
        }
    }
}
