//! The operations on jobs that every entry point shares. Each one is stored first, then
//! announced: this replica's membership loop reconciles at once, the other replicas hear of it
//! through the store's change notifications (or their periodic reconcile), and an event is
//! published for the event stream. Each one is recorded in the audit log, with who made it,
//! right after it is stored (`audit.rs`).

use super::audit::{self, changed, entry, user_fields};
use super::error::JobError;
use super::fields::JobFields;
use super::secret_fields::check_secrets;
use super::signal::ChangeSignal;
use crate::alerts::Alert;
use crate::events::{Event, JobChange, Publisher};
use crate::schedule::OverlapPolicy;
use crate::store::{
    Actor, AuditAction, Job, JobPatch, PausedReason, RunFilter, RunPage, RunStatus, Store,
};

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

    /// Create a job from `fields` (name, schedule and plugin required), on `actor`'s account.
    pub async fn create(&self, fields: &JobFields, actor: &Actor) -> Result<Job, JobError> {
        let new = fields.new_job()?;
        let job = self.store.create_job(new).await?;
        let after = Some(user_fields(&job).into());
        let record = entry(actor, AuditAction::JobCreated, &job, None, after);
        audit::record(&self.store, &record).await;
        self.announce(&job, JobChange::Created);
        Ok(job)
    }

    /// Edit the fields present in `fields` of the job `id_or_name` (bumps its version), on
    /// `actor`'s account.
    pub async fn update(
        &self,
        id_or_name: &str,
        fields: &JobFields,
        actor: &Actor,
    ) -> Result<Job, JobError> {
        let patch = fields.patch()?;
        let before = self.find(id_or_name).await?;
        // Pausing and resuming are operations, allowed on a managed job; its spec is not.
        if patch
            != (JobPatch {
                paused: patch.paused,
                ..JobPatch::default()
            })
        {
            unmanaged(&before)?;
        }
        // A key may not be both config and a secret, whichever of the two the edit changes.
        if patch.secrets.is_some() || patch.config.is_some() {
            let secrets = patch.secrets.as_ref().unwrap_or(&before.secrets);
            check_secrets(
                secrets,
                Some(patch.config.as_ref().unwrap_or(&before.config)),
            )?;
        }
        let job = self.store.update_job(&before.id, &patch, None).await?;
        let (was, is) = changed(&before, &job);
        let record = entry(actor, AuditAction::JobUpdated, &job, Some(was), Some(is));
        audit::record(&self.store, &record).await;
        self.announce(&job, JobChange::Updated);
        Ok(job)
    }

    /// Delete the job `id_or_name` with its runs and state, on `actor`'s account; the job as
    /// it was.
    pub async fn delete(&self, id_or_name: &str, actor: &Actor) -> Result<Job, JobError> {
        let job = self.find(id_or_name).await?;
        unmanaged(&job)?;
        self.store.delete_job(&job.id).await?;
        let before = Some(user_fields(&job).into());
        let record = entry(actor, AuditAction::JobDeleted, &job, before, None);
        audit::record(&self.store, &record).await;
        self.announce(&job, JobChange::Deleted);
        Ok(job)
    }

    /// Pause or resume the job `id_or_name`, on `actor`'s account.
    pub async fn set_paused(
        &self,
        id_or_name: &str,
        paused: bool,
        actor: &Actor,
    ) -> Result<Job, JobError> {
        let before = self.find(id_or_name).await?;
        let job = self.store.set_paused(&before.id, paused).await?;
        let (change, action) = if paused {
            (JobChange::Paused, AuditAction::JobPaused)
        } else {
            (JobChange::Resumed, AuditAction::JobResumed)
        };
        let (was, is) = changed(&before, &job);
        audit::record(
            &self.store,
            &entry(actor, action, &job, Some(was), Some(is)),
        )
        .await;
        self.announce(&job, change);
        Ok(job)
    }

    /// Accept a manual trigger of the job `id_or_name`: a tick at the database's current
    /// instant, which the job's owner runs like any tick. Refused ([`JobError::Busy`]) when a
    /// run is in progress and the overlap policy is not `allow`. Returns the job and the
    /// tick's instant. Recorded on `actor`'s account.
    pub async fn trigger(&self, id_or_name: &str, actor: &Actor) -> Result<(Job, i64), JobError> {
        let job = self.find(id_or_name).await?;
        if job.overlap != OverlapPolicy::Allow && self.store.running_count(&job.id).await? > 0 {
            return Err(JobError::Busy(format!(
                "job {:?} has a run in progress and its overlap policy is {}: not triggered",
                job.name, job.overlap
            )));
        }
        let at = self.store.insert_trigger(&job.id).await?;
        let after = Some(serde_json::json!({ "scheduled_at_ms": at }));
        let record = entry(actor, AuditAction::JobTriggered, &job, None, after);
        audit::record(&self.store, &record).await;
        crate::metrics::global().manual_trigger();
        self.events
            .publish(Event::job_changed(&job, JobChange::Triggered));
        if job.owner.as_deref() == Some(self.instance_id.as_str()) {
            self.signal.trigger_added();
        }
        Ok((job, at))
    }

    /// After a tick of job `id` failed for good (its last attempt failed or timed out): when
    /// its last `limit` ticks since `anchor_ms` (its creation or last resume) all failed —
    /// skipped and missed ticks neither count nor break the streak — pause it, with the
    /// reason `failures`, on the account of [`Actor::System`]. Returns the paused job.
    pub async fn pause_after_failures(
        &self,
        id: &str,
        anchor_ms: i64,
        limit: u32,
    ) -> Result<Option<Job>, JobError> {
        if failed_streak(&self.store, id, anchor_ms, limit).await? < limit {
            return Ok(None);
        }
        let Some(job) = self.store.pause_for(id, PausedReason::Failures).await? else {
            return Ok(None);
        };
        tracing::warn!(job = %job.name, failures = limit, "paused after consecutive failed ticks");
        // Paused only from unpaused: before, it was running with no reason.
        let before = Job {
            paused: false,
            paused_reason: None,
            ..job.clone()
        };
        let (was, is) = changed(&before, &job);
        let record = entry(
            &Actor::System,
            AuditAction::JobPaused,
            &job,
            Some(was),
            Some(is),
        );
        audit::record(&self.store, &record).await;
        crate::metrics::global().paused_after_failures();
        self.announce(&job, JobChange::Paused);
        let job_ref = (job.id.as_str(), job.name.as_str());
        self.events.alert(Alert::job_paused(
            job_ref,
            job.version,
            limit,
            &self.instance_id,
        ));
        Ok(Some(job))
    }

    /// The store the operations go through.
    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    /// Reconcile this job here now, tell the other replicas which job changed, publish the
    /// event.
    fn announce(&self, job: &Job, change: JobChange) {
        self.signal.job_changed(&job.id);
        self.notify_peers(job.id.clone());
        self.publish(job, change);
    }

    /// Reconcile every job here now and tell the other replicas to (once for any number of
    /// changes).
    pub(super) fn announce_all(&self) {
        self.signal.jobs_changed();
        self.notify_peers(String::new());
    }

    /// Tell the other replicas that job `id` changed (every job: empty), in the background.
    fn notify_peers(&self, id: String) {
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.notify_job_changed(&id).await {
                tracing::debug!(error = %e, "cannot notify peers of a job change; they reconcile periodically");
            }
        });
    }

    /// Publish a job's change on the event stream.
    pub(super) fn publish(&self, job: &Job, change: JobChange) {
        self.events.publish(Event::job_changed(job, change));
    }
}

/// Refuses a change of the spec of a job a jobs file manages.
fn unmanaged(job: &Job) -> Result<(), JobError> {
    match &job.managed_by {
        Some(by) => Err(JobError::Managed {
            job: job.name.clone(),
            by: by.clone(),
        }),
        None => Ok(()),
    }
}

/// How many of the newest ticks of a job after `anchor_ms` ended failed in a row, counting
/// up to `limit`: each tick's newest attempt decides; ticks still running, skipped or missed
/// are passed over.
async fn failed_streak(
    store: &Store,
    id: &str,
    anchor_ms: i64,
    limit: u32,
) -> Result<u32, JobError> {
    let filter = RunFilter {
        job_id: Some(id.to_owned()),
        from_ms: Some(anchor_ms.saturating_add(1)),
        ..RunFilter::default()
    };
    let mut page = RunPage {
        limit: 500,
        before: None,
    };
    let mut streak = 0;
    let mut last_tick = None;
    loop {
        let runs = store.list_runs(&filter, &page).await?;
        for run in &runs {
            // Newest tick first, and within a tick the newest attempt first.
            if last_tick == Some(run.scheduled_at_ms) {
                continue;
            }
            last_tick = Some(run.scheduled_at_ms);
            match run.status {
                RunStatus::Failed | RunStatus::TimedOut => streak += 1,
                RunStatus::Succeeded => return Ok(streak),
                RunStatus::Running | RunStatus::Skipped | RunStatus::Missed => {}
            }
            if streak >= limit {
                return Ok(streak);
            }
        }
        match runs.last() {
            Some(last) if runs.len() as i64 == page.limit => page.before = Some(last.into()),
            _ => return Ok(streak),
        }
    }
}
