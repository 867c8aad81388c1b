//! The membership loop of one replica: heartbeat (an upsert stamped by the database clock, so
//! a replica that was declared dead re-registers), claim jobs that have no live owner, and
//! reconcile the scheduler with what this replica owns (new, edited, lost and deleted jobs).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::health::Health;
use crate::scheduler::{Command, DbClock, JobSpec, SchedulerHandle};
use crate::store::Store;

/// Membership settings.
#[derive(Clone, Debug)]
pub struct MembershipOptions {
    pub instance_id: String,
    pub address: String,
    pub heartbeat_interval: Duration,
    pub dead_after: Duration,
}

/// The membership loop and its handle for pokes (a job changed on this replica).
#[derive(Clone, Debug)]
pub struct Membership {
    store: Store,
    options: MembershipOptions,
    clock: DbClock,
    scheduler: SchedulerHandle,
    health: Arc<Health>,
    poke: Arc<Notify>,
}

impl Membership {
    pub fn new(
        store: Store,
        options: MembershipOptions,
        clock: DbClock,
        scheduler: SchedulerHandle,
        health: Arc<Health>,
    ) -> Self {
        Membership {
            store,
            options,
            clock,
            scheduler,
            health,
            poke: Arc::new(Notify::new()),
        }
    }

    /// Reconcile now (a job was created or changed through this replica).
    pub fn poke(&self) {
        self.poke.notify_one();
    }

    /// Heartbeat, claim and reconcile every heartbeat interval (sooner when poked) until `stop`.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut failures = 0u32;
        loop {
            match self.round().await {
                Ok(()) => {
                    if failures > 0 {
                        tracing::info!("database reachable again");
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
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(wait) => {}
                _ = self.poke.notified() => {}
            }
        }
    }

    async fn round(&self) -> Result<(), crate::store::StoreError> {
        let sent = Instant::now();
        let now = self
            .store
            .heartbeat(
                &self.options.instance_id,
                &self.options.address,
                env!("CARGO_PKG_VERSION"),
            )
            .await?;
        self.clock.sync(now, sent);
        self.health.set_registered();
        let claimed = self
            .store
            .claim_jobs(
                &self.options.instance_id,
                self.options.dead_after.as_millis() as i64,
            )
            .await?;
        if !claimed.is_empty() {
            tracing::info!(count = claimed.len(), "claimed jobs");
        }
        self.reconcile().await
    }

    /// Make the scheduler hold exactly the jobs this replica owns, at their current versions.
    pub async fn reconcile(&self) -> Result<(), crate::store::StoreError> {
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
        let mut owned_ids = std::collections::HashSet::new();
        for (id, version, epoch) in owned {
            owned_ids.insert(id.clone());
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
                _ => self.take(&id).await?,
            }
        }
        for id in held.keys() {
            if !owned_ids.contains(id) {
                tracing::info!(job_id = %id, "job no longer owned here (deleted or moved)");
                self.scheduler.send(Command::Drop(id.clone()));
            }
        }
        Ok(())
    }

    async fn take(&self, id: &str) -> Result<(), crate::store::StoreError> {
        let Some(job) = self.store.get_job(id).await? else {
            return Ok(());
        };
        if job.owner.as_deref() != Some(self.options.instance_id.as_str()) {
            return Ok(());
        }
        let spec = match JobSpec::from_job(&job) {
            Ok(spec) => spec,
            Err(e) => {
                tracing::error!(job = %job.name, error = %e, "stored job is invalid; not scheduled");
                return Ok(());
            }
        };
        let abandoned = self.store.abandon_runs(id, job.epoch).await?;
        if abandoned > 0 {
            tracing::warn!(job = %job.name, abandoned, "runs of a previous owner were cut off and recorded failed (abandoned)");
        }
        let last = self.store.last_tick_ms(id).await?.unwrap_or(i64::MIN);
        self.scheduler.send(Command::Take {
            spec: Arc::new(spec),
            last_accounted_ms: last,
        });
        Ok(())
    }
}
