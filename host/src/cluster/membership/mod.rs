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
//!
//! - [`heartbeat`]: the heartbeat, through the database session where the engine has one;
//! - [`round`]: one round (heartbeat, claim or hand over, lease, reconcile);
//! - [`reconcile`]: the scheduler holds exactly the jobs owned here (all of them each round,
//!   the jobs just written in between);
//! - [`listen`]: change notifications from the other replicas wake the loop.

mod heartbeat;
mod listen;
mod reconcile;
mod round;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::health::Health;
use super::leader::Leadership;
use crate::clock::DbClock;
use crate::jobs::{ChangeSignal, Changes};
use crate::scheduler::{Command, SchedulerHandle};
use crate::store::Store;
use crate::store::session::Session;

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
    pub(super) session: tokio::sync::Mutex<Option<Session>>,
    /// Jobs being handed to a peer: owned here still, but no longer scheduled here.
    pub(super) handing_over: Mutex<HashSet<String>>,
    /// A handoff task is running.
    pub(super) handoff_busy: AtomicBool,
    /// Rounds in a row that saw orphaned jobs.
    pub(super) orphan_rounds: AtomicU32,
    /// Shutting down: no claims, no rebalancing, no new jobs scheduled.
    pub(super) leaving: AtomicBool,
    /// Registered at least once (the first heartbeat announces the replica).
    pub(super) announced: AtomicBool,
    /// What the orphan probe saw last.
    pub(super) orphans: Mutex<round::OrphanProbe>,
}

/// The membership loop of one replica, and its handle.
#[derive(Clone, Debug)]
pub struct Membership {
    pub(super) store: Store,
    pub(super) options: MembershipOptions,
    pub(super) clock: DbClock,
    pub(super) scheduler: SchedulerHandle,
    pub(super) health: Arc<Health>,
    /// Wakes the loop: a job changed through this replica, a plugin changed, a notification.
    pub(super) signal: ChangeSignal,
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
        signal: ChangeSignal,
        session: Option<Session>,
    ) -> Self {
        let leadership = Leadership::new(store.clone(), options.instance_id.clone());
        Membership {
            store,
            options,
            clock,
            scheduler,
            health,
            signal,
            shared: Arc::new(Shared {
                session: tokio::sync::Mutex::new(session),
                ..Shared::default()
            }),
            leadership,
        }
    }

    /// Reconcile here now (nothing is sent to peers).
    pub fn poke_local(&self) {
        self.signal.jobs_changed();
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

    /// Heartbeat, claim, balance and reconcile every heartbeat interval — sooner when a job
    /// changed here, a notification came, or a peer's jobs lost their owner — until `stop`.
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
                    _ = self.signal.jobs_change() => match self.signal.take_changes() {
                        Changes::Jobs(ids) if failures == 0 => {
                            if ids.is_empty() {
                                continue;
                            }
                            if let Err(e) = self.reconcile_jobs(&ids).await {
                                tracing::debug!(error = %e, "cannot reconcile the jobs written; a round follows");
                                break;
                            }
                        }
                        _ => break,
                    },
                    _ = tokio::time::sleep(probe), if failures == 0 => {
                        if self.orphans_changed().await {
                            break;
                        }
                    }
                }
            }
        }
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
