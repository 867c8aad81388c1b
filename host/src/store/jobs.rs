//! Job definitions: create, read, list, edit, pause and delete.

use super::Store;
use super::error::StoreError;
use super::model::{Job, JobFilter, JobPage, JobPatch, NewJob};
use super::rows::{JobRow, jobs_from_rows, to_json_text};

/// How often an edit without an expected version is retried when it races another edit.
const UNCONDITIONAL_EDIT_ATTEMPTS: usize = 8;

/// Turns a unique-key violation on `jobs.name` into [`StoreError::DuplicateName`].
fn name_conflict(error: sqlx::Error, name: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::DuplicateName(name.to_owned())
        }
        _ => error.into(),
    }
}

/// A job's user fields after a patch, ready to be bound.
struct EditedFields {
    job: Job,
    /// The schedule's time base changed (schedule, time zone, or resumed): move the anchor.
    move_anchor: bool,
}

fn apply_patch(mut job: Job, patch: &JobPatch) -> EditedFields {
    let mut move_anchor = false;
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
        job.paused = paused;
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
    EditedFields { job, move_anchor }
}

impl Store {
    /// Creates a job (new UUID, version 1, epoch 0, no owner, anchored at now).
    pub async fn create_job(&self, new: NewJob) -> Result<Job, StoreError> {
        let insert = sql!(
            "INSERT INTO jobs (id, name, schedule, timezone, plugin, input, config, paused, \
             overlap, misfire, catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, \
             allowed_hosts, owner, epoch, version, anchor_ms, created_at_ms, updated_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             NULL, 0, 1, t.ms, t.ms, t.ms FROM (SELECT ",
            now,
            " AS ms) t RETURNING ",
            job_columns
        );
        let id = uuid::Uuid::new_v4().to_string();
        let input = to_json_text(&new.input);
        let config = to_json_text(&new.config);
        let allowed_hosts = to_json_text(&new.allowed_hosts);
        on_pool!(self, |pool, backend| {
            let row: JobRow = sqlx::query_as(insert.get(backend))
                .bind(&id)
                .bind(&new.name)
                .bind(&new.schedule)
                .bind(&new.timezone)
                .bind(&new.plugin)
                .bind(&input)
                .bind(&config)
                .bind(new.paused)
                .bind(new.overlap.as_str())
                .bind(new.misfire.as_str())
                .bind(new.catchup_window_ms)
                .bind(new.jitter_ms)
                .bind(new.timeout_ms)
                .bind(new.memory_limit_bytes)
                .bind(&allowed_hosts)
                .fetch_one(pool)
                .await
                .map_err(|e| name_conflict(e, &new.name))?;
            Job::try_from(row)
        })
    }

    /// The job with this id, or else with this name.
    pub async fn get_job(&self, id_or_name: &str) -> Result<Option<Job>, StoreError> {
        let select = sql!(
            "SELECT ",
            job_columns,
            " FROM jobs WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC LIMIT 1"
        );
        on_pool!(self, |pool, backend| {
            let row: Option<JobRow> = sqlx::query_as(select.get(backend))
                .bind(id_or_name)
                .fetch_optional(pool)
                .await?;
            row.map(Job::try_from).transpose()
        })
    }

    /// Jobs matching `filter`, ordered by name, one keyset page at a time.
    pub async fn list_jobs(
        &self,
        filter: &JobFilter,
        page: &JobPage,
    ) -> Result<Vec<Job>, StoreError> {
        let select = sql!(
            "SELECT ",
            job_columns,
            " FROM jobs WHERE ($1 IS NULL OR plugin = $1) AND ($2 IS NULL OR paused = $2) \
             AND ($3 IS NULL OR owner = $3) AND ($4 IS NULL OR name > $4) \
             ORDER BY name LIMIT $5"
        );
        on_pool!(self, |pool, backend| {
            let rows: Vec<JobRow> = sqlx::query_as(select.get(backend))
                .bind(filter.plugin.as_deref())
                .bind(filter.paused)
                .bind(filter.owner.as_deref())
                .bind(page.after_name.as_deref())
                .bind(page.limit.max(0))
                .fetch_all(pool)
                .await?;
            jobs_from_rows(rows)
        })
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

    /// Deletes job `id` with its runs and state. False when there was no such job.
    pub async fn delete_job(&self, id: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool, _backend| {
            let done = sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// The job with exactly this id.
    async fn get_job_by_id(&self, id: &str) -> Result<Option<Job>, StoreError> {
        let select = sql!("SELECT ", job_columns, " FROM jobs WHERE id = $1");
        on_pool!(self, |pool, backend| {
            let row: Option<JobRow> = sqlx::query_as(select.get(backend))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(Job::try_from).transpose()
        })
    }

    /// Writes the edited fields if the job is still at `read_version`; `None` if it is not.
    async fn write_edit(
        &self,
        edited: &EditedFields,
        read_version: i64,
    ) -> Result<Option<Job>, StoreError> {
        let update = sql!(
            "UPDATE jobs SET name = $2, schedule = $3, timezone = $4, plugin = $5, input = $6, \
             config = $7, paused = $8, overlap = $9, misfire = $10, catchup_window_ms = $11, \
             jitter_ms = $12, timeout_ms = $13, memory_limit_bytes = $14, allowed_hosts = $15, \
             version = version + 1, updated_at_ms = t.ms, \
             anchor_ms = CASE WHEN $16 THEN t.ms ELSE anchor_ms END \
             FROM (SELECT ",
            now,
            " AS ms) t WHERE id = $1 AND version = $17 RETURNING ",
            job_columns
        );
        let job = &edited.job;
        let input = to_json_text(&job.input);
        let config = to_json_text(&job.config);
        let allowed_hosts = to_json_text(&job.allowed_hosts);
        on_pool!(self, |pool, backend| {
            let row: Option<JobRow> = sqlx::query_as(update.get(backend))
                .bind(&job.id)
                .bind(&job.name)
                .bind(&job.schedule)
                .bind(&job.timezone)
                .bind(&job.plugin)
                .bind(&input)
                .bind(&config)
                .bind(job.paused)
                .bind(job.overlap.as_str())
                .bind(job.misfire.as_str())
                .bind(job.catchup_window_ms)
                .bind(job.jitter_ms)
                .bind(job.timeout_ms)
                .bind(job.memory_limit_bytes)
                .bind(&allowed_hosts)
                .bind(edited.move_anchor)
                .bind(read_version)
                .fetch_optional(pool)
                .await
                .map_err(|e| name_conflict(e, &job.name))?;
            row.map(Job::try_from).transpose()
        })
    }
}
