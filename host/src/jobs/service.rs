//! The operations on jobs that every entry point shares. Each one is stored first, then
//! announced: this replica's membership loop reconciles at once, the other replicas hear of it
//! through the store's change notifications (or their periodic reconcile), and an event is
//! published for the event stream.

use std::sync::Arc;

use tokio::sync::Notify;

use super::error::JobError;
use super::fields::JobFields;
use crate::events::{Event, JobChange, Publisher};
use crate::schedule::OverlapPolicy;
use crate::store::{Job, Store};

/// Wake-ups inside one replica for changes made through it: jobs written (the membership
/// loop reconciles) and manual triggers accepted for jobs it owns (the scheduler's trigger
/// feeder looks at once instead of at its next poll). Cheap to clone; clones share the
/// wake-ups.
#[derive(Clone, Debug, Default)]
pub struct ChangeSignal {
    jobs: Arc<Notify>,
    triggers: Arc<Notify>,
}

impl ChangeSignal {
    /// Something this replica owns or should own may have changed: reconcile now.
    pub fn jobs_changed(&self) {
        self.jobs.notify_one();
    }

    /// Resolves at the next [`ChangeSignal::jobs_changed`] (or at once for one that came
    /// while nobody waited).
    pub async fn jobs_change(&self) {
        self.jobs.notified().await
    }

    /// A manual trigger of a job owned here was accepted.
    pub fn trigger_added(&self) {
        self.triggers.notify_one();
    }

    /// Resolves at the next [`ChangeSignal::trigger_added`].
    pub async fn trigger(&self) {
        self.triggers.notified().await
    }
}

/// Job operations of one replica.
#[derive(Clone, Debug)]
pub struct Jobs {
    store: Store,
    instance_id: String,
    signal: ChangeSignal,
    events: Publisher,
}

impl Jobs {
    /// Operations through `store`, made by replica `instance_id`, announced on `signal` and
    /// published on `events`.
    pub fn new(
        store: Store,
        instance_id: impl Into<String>,
        signal: ChangeSignal,
        events: Publisher,
    ) -> Self {
        Self {
            store,
            instance_id: instance_id.into(),
            signal,
            events,
        }
    }

    /// The job with this id or name.
    pub async fn find(&self, id_or_name: &str) -> Result<Job, JobError> {
        self.store
            .get_job(id_or_name)
            .await?
            .ok_or_else(|| JobError::NotFound(id_or_name.to_owned()))
    }

    /// Create a job from `fields` (name, schedule and plugin required).
    pub async fn create(&self, fields: &JobFields) -> Result<Job, JobError> {
        let new = fields.new_job()?;
        let job = self.store.create_job(new).await?;
        self.announce(&job, JobChange::Created);
        Ok(job)
    }

    /// Edit the fields present in `fields` of the job `id_or_name` (bumps its version).
    pub async fn update(&self, id_or_name: &str, fields: &JobFields) -> Result<Job, JobError> {
        let patch = fields.patch()?;
        let job = self.find(id_or_name).await?;
        let job = self.store.update_job(&job.id, &patch, None).await?;
        self.announce(&job, JobChange::Updated);
        Ok(job)
    }

    /// Delete the job `id_or_name` with its runs and state; the job as it was.
    pub async fn delete(&self, id_or_name: &str) -> Result<Job, JobError> {
        let job = self.find(id_or_name).await?;
        self.store.delete_job(&job.id).await?;
        self.announce(&job, JobChange::Deleted);
        Ok(job)
    }

    /// Pause or resume the job `id_or_name`.
    pub async fn set_paused(&self, id_or_name: &str, paused: bool) -> Result<Job, JobError> {
        let job = self.find(id_or_name).await?;
        let job = self.store.set_paused(&job.id, paused).await?;
        let change = if paused {
            JobChange::Paused
        } else {
            JobChange::Resumed
        };
        self.announce(&job, change);
        Ok(job)
    }

    /// Accept a manual trigger of the job `id_or_name`: a tick at the database's current
    /// instant, which the job's owner runs like any tick. Refused ([`JobError::Busy`]) when a
    /// run is in progress and the overlap policy is not `allow`. Returns the job and the
    /// tick's instant.
    pub async fn trigger(&self, id_or_name: &str) -> Result<(Job, i64), JobError> {
        let job = self.find(id_or_name).await?;
        if job.overlap != OverlapPolicy::Allow && self.store.running_count(&job.id).await? > 0 {
            return Err(JobError::Busy(format!(
                "job {:?} has a run in progress and its overlap policy is {}: not triggered",
                job.name, job.overlap
            )));
        }
        let at = self.store.insert_trigger(&job.id).await?;
        crate::metrics::global().manual_trigger();
        self.events
            .publish(Event::job_changed(&job, JobChange::Triggered));
        if job.owner.as_deref() == Some(self.instance_id.as_str()) {
            self.signal.trigger_added();
        }
        Ok((job, at))
    }

    /// Reconcile here now, tell the other replicas, publish the event.
    fn announce(&self, job: &Job, change: JobChange) {
        self.signal.jobs_changed();
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.notify_job_changed("").await {
                tracing::debug!(error = %e, "cannot notify peers of a job change; they reconcile periodically");
            }
        });
        self.events.publish(Event::job_changed(job, change));
    }
}
