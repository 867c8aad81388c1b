//! Job definitions: create, read, list, edit, pause and delete. An edit is a read, a patch
//! applied here, and a write that succeeds only if the job is still at the version read.

use super::Store;
use super::driver::JobEdit;
use super::error::StoreError;
use super::model::{Job, JobFilter, JobPage, JobPatch, NewJob, PausedReason};

/// How often an edit without an expected version is retried when it races another edit.
const UNCONDITIONAL_EDIT_ATTEMPTS: usize = 8;

/// A job's user fields after a patch, ready to be written.
struct EditedFields {
    job: Job,
    /// The schedule's time base changed (schedule, time zone, or resumed): move the anchor.
    move_anchor: bool,
    /// The job's planned retries no longer apply (schedule or time zone changed, paused).
    drop_retries: bool,
}

fn apply_patch(mut job: Job, patch: &JobPatch) -> EditedFields {
    let mut move_anchor = false;
    let mut drop_retries = false;
    if let Some(name) = &patch.name {
        job.name = name.clone();
    }
    if let Some(schedule) = &patch.schedule {
        move_anchor |= *schedule != job.schedule;
        job.schedule = schedule.clone();
    }
    if let Some(timezone) = &patch.timezone {
        move_anchor |= *timezone != job.timezone;
        job.timezone = timezone.clone();
    }
    if let Some(plugin) = &patch.plugin {
        job.plugin = plugin.clone();
    }
    if let Some(input) = &patch.input {
        job.input = input.clone();
    }
    if let Some(config) = &patch.config {
        job.config = config.clone();
    }
    if let Some(paused) = patch.paused {
        // Resuming moves the anchor so that the pause gap is not caught up as missed ticks.
        move_anchor |= job.paused && !paused;
        drop_retries |= paused;
        job.paused = paused;
        // Paused or resumed by hand: whatever paused it before no longer says why.
        job.paused_reason = None;
    }
    if let Some(overlap) = &patch.overlap {
        job.overlap = *overlap;
    }
    if let Some(misfire) = &patch.misfire {
        job.misfire = *misfire;
    }
    if let Some(window) = patch.catchup_window_ms {
        job.catchup_window_ms = window;
    }
    if let Some(jitter) = patch.jitter_ms {
        job.jitter_ms = jitter;
    }
    if let Some(timeout) = patch.timeout_ms {
        job.timeout_ms = timeout;
    }
    if let Some(limit) = patch.memory_limit_bytes {
        job.memory_limit_bytes = limit;
    }
    if let Some(hosts) = &patch.allowed_hosts {
        job.allowed_hosts = hosts.clone();
    }
    if let Some(secrets) = &patch.secrets {
        job.secrets = secrets.clone();
    }
    if let Some(retry) = patch.retry {
        job.failure.retry = retry;
    }
    if let Some(pause_after) = patch.pause_after_failures {
        job.failure.pause_after_failures = pause_after;
    }
    if let Some(stale_after) = patch.stale_after_ms {
        job.failure.stale_after_ms = stale_after;
    }
    // A new schedule or time zone: the ticks planned under the old one are not retried.
    drop_retries |= move_anchor;
    EditedFields {
        job,
        move_anchor,
        drop_retries,
    }
}

/// `job` as an edit by `patch` leaves it (its bookkeeping aside: version, anchor, times).
pub fn patched(job: Job, patch: &JobPatch) -> Job {
    apply_patch(job, patch).job
}

impl Store {
    /// Creates a job (new UUID, version 1, epoch 0, no owner, anchored at now).
    pub async fn create_job(&self, new: NewJob) -> Result<Job, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.bounded(self.driver.create_job(&id, &new)).await
    }

    /// Creates `jobs` in one transaction (new UUIDs, version 1, epoch 0, no owner, all
    /// anchored at one instant): all of them, or none when a name is taken
    /// ([`StoreError::DuplicateName`]). The jobs as stored, in order.
    pub async fn create_jobs(&self, jobs: Vec<NewJob>) -> Result<Vec<Job>, StoreError> {
        let rows: Vec<(String, NewJob)> = jobs
            .into_iter()
            .map(|new| (uuid::Uuid::new_v4().to_string(), new))
            .collect();
        let now = self.bounded(self.driver.create_jobs(&rows)).await?;
        Ok(rows
            .into_iter()
            .map(|(id, new)| Job {
                id,
                name: new.name,
                schedule: new.schedule,
                timezone: new.timezone,
                plugin: new.plugin,
                input: new.input,
                config: new.config,
                paused: new.paused,
                paused_reason: None,
                overlap: new.overlap,
                misfire: new.misfire,
                catchup_window_ms: new.catchup_window_ms,
                jitter_ms: new.jitter_ms,
                timeout_ms: new.timeout_ms,
                memory_limit_bytes: new.memory_limit_bytes,
                allowed_hosts: new.allowed_hosts,
                failure: new.failure,
                secrets: new.secrets,
                managed_by: new.managed_by,
                owner: None,
                epoch: 0,
                version: 1,
                anchor_ms: now,
                created_at_ms: now,
                updated_at_ms: now,
            })
            .collect())
    }

    /// The job with this id, or else with this name.
    pub async fn get_job(&self, id_or_name: &str) -> Result<Option<Job>, StoreError> {
        self.bounded(self.driver.get_job(id_or_name)).await
    }

    /// Every job, by name, `limit` at a time: `while let Some(jobs) = pages.next().await? {…}`.
    pub fn job_pages(&self, limit: i64) -> JobPages<'_> {
        JobPages {
            store: self,
            page: JobPage {
                limit,
                after_name: None,
            },
            done: false,
        }
    }

    /// Jobs matching `filter`, ordered by name, one keyset page at a time.
    pub async fn list_jobs(
        &self,
        filter: &JobFilter,
        page: &JobPage,
    ) -> Result<Vec<Job>, StoreError> {
        self.bounded(self.driver.list_jobs(filter, page)).await
    }

    /// Applies `patch` to job `id` and bumps its version. With `expected_version`, the edit
    /// applies only if the job is still at that version ([`StoreError::VersionConflict`]
    /// otherwise); without, it is applied to whatever the current version is. A change of
    /// schedule or time zone, or a resume, moves the anchor to now.
    pub async fn update_job(
        &self,
        id: &str,
        patch: &JobPatch,
        expected_version: Option<i64>,
    ) -> Result<Job, StoreError> {
        let mut last_read = 0;
        for _ in 0..UNCONDITIONAL_EDIT_ATTEMPTS {
            let current = self
                .get_job_by_id(id)
                .await?
                .ok_or_else(|| StoreError::JobNotFound(id.to_owned()))?;
            let expected = expected_version.unwrap_or(current.version);
            if expected != current.version {
                return Err(StoreError::VersionConflict {
                    id: id.to_owned(),
                    expected,
                    found: current.version,
                });
            }
            last_read = current.version;
            let edited = apply_patch(current, patch);
            if let Some(job) = self.write_edit(&edited, expected).await? {
                return Ok(job);
            }
            // Someone else edited the job between the read and the write: with an expected
            // version that is a conflict (reported by the next read), without one, try again.
        }
        let found = self
            .get_job_by_id(id)
            .await?
            .ok_or_else(|| StoreError::JobNotFound(id.to_owned()))?
            .version;
        Err(StoreError::VersionConflict {
            id: id.to_owned(),
            expected: last_read,
            found,
        })
    }

    /// Pauses or resumes job `id` (a no-op when it already is in that state). Resuming moves
    /// the anchor to now, so the ticks that passed while paused are not caught up.
    pub async fn set_paused(&self, id: &str, paused: bool) -> Result<Job, StoreError> {
        let current = self
            .get_job_by_id(id)
            .await?
            .ok_or_else(|| StoreError::JobNotFound(id.to_owned()))?;
        if current.paused == paused {
            return Ok(current);
        }
        let patch = JobPatch {
            paused: Some(paused),
            ..JobPatch::default()
        };
        self.update_job(id, &patch, None).await
    }

    /// Pauses job `id` on the host's own account (`reason`), dropping its planned retries;
    /// `None` when it is paused already (by hand or otherwise) or gone. Resuming clears the
    /// reason.
    pub async fn pause_for(
        &self,
        id: &str,
        reason: PausedReason,
    ) -> Result<Option<Job>, StoreError> {
        for _ in 0..UNCONDITIONAL_EDIT_ATTEMPTS {
            let Some(current) = self.get_job_by_id(id).await? else {
                return Ok(None);
            };
            if current.paused {
                return Ok(None);
            }
            let version = current.version;
            let patch = JobPatch {
                paused: Some(true),
                ..JobPatch::default()
            };
            let mut edited = apply_patch(current, &patch);
            edited.job.paused_reason = Some(reason);
            if let Some(job) = self.write_edit(&edited, version).await? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    /// Deletes job `id` with its runs and state. False when there was no such job.
    pub async fn delete_job(&self, id: &str) -> Result<bool, StoreError> {
        self.bounded(self.driver.delete_job(id)).await
    }

    /// Applies each `(job as read, patch)` in one transaction, each only if its job is still
    /// at the version read: all, or none ([`StoreError::VersionConflict`]). The jobs as
    /// edited (their new version; the anchor and edit time at the instant the transaction
    /// read at its start, within its statements' own).
    pub async fn update_jobs(&self, edits: &[(Job, JobPatch)]) -> Result<Vec<Job>, StoreError> {
        let edited: Vec<EditedFields> = edits
            .iter()
            .map(|(job, patch)| apply_patch(job.clone(), patch))
            .collect();
        let writes: Vec<JobEdit<'_>> = edited
            .iter()
            .zip(edits)
            .map(|(e, (job, _))| JobEdit {
                job: &e.job,
                move_anchor: e.move_anchor,
                read_version: job.version,
                drop_retries: e.drop_retries,
            })
            .collect();
        let now = self.bounded(self.driver.update_jobs(&writes)).await?;
        Ok(edited
            .into_iter()
            .map(|e| {
                let mut job = e.job;
                job.version += 1;
                job.updated_at_ms = now;
                if e.move_anchor {
                    job.anchor_ms = now;
                }
                job
            })
            .collect())
    }

    /// Deletes the jobs of `ids` with their runs, state and triggers, in one transaction;
    /// how many there were.
    pub async fn delete_jobs(&self, ids: &[String]) -> Result<u64, StoreError> {
        self.bounded(self.driver.delete_jobs(ids)).await
    }

    /// The job with exactly this id.
    async fn get_job_by_id(&self, id: &str) -> Result<Option<Job>, StoreError> {
        self.bounded(self.driver.get_job_by_id(id)).await
    }

    /// Writes the edited fields if the job is still at `read_version`; `None` if it is not.
    /// An edit that drops the job's planned retries drops them in the same transaction.
    async fn write_edit(
        &self,
        edited: &EditedFields,
        read_version: i64,
    ) -> Result<Option<Job>, StoreError> {
        let edit = JobEdit {
            job: &edited.job,
            move_anchor: edited.move_anchor,
            read_version,
            drop_retries: edited.drop_retries,
        };
        self.bounded(self.driver.update_job(edit)).await
    }
}

/// A walk over every job by name, a keyset page at a time ([`Store::job_pages`]).
pub struct JobPages<'a> {
    store: &'a Store,
    page: JobPage,
    done: bool,
}

impl JobPages<'_> {
    /// The next page (the last one may be empty), or `None` once a short page was read.
    pub async fn next(&mut self) -> Result<Option<Vec<Job>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let jobs = self
            .store
            .list_jobs(&JobFilter::default(), &self.page)
            .await?;
        self.done = (jobs.len() as i64) < self.page.limit;
        self.page.after_name = jobs.last().map(|job| job.name.clone());
        Ok(Some(jobs))
    }
}
