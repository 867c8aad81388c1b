//! Job definitions.

use super::{SqlEngine, Stmt};
use crate::store::driver::JobEdit;
use crate::store::error::{StoreError, name_conflict};
use crate::store::model::{Job, JobFilter, JobPage, NewJob};
use crate::store::rows::{JobRow, jobs_from_rows, to_json_text};

/// The catalogue's `insert_job` with its parameters bound.
pub(crate) fn insert_job_stmt<E: SqlEngine>(id: &str, new: &NewJob) -> Stmt<E::Db> {
    Stmt::new(E::SQL.insert_job)
        .bind(id)
        .bind(new.name.as_str())
        .bind(new.schedule.as_str())
        .bind(new.timezone.as_str())
        .bind(new.plugin.as_str())
        .bind(to_json_text(&new.input))
        .bind(to_json_text(&new.config))
        .bind(new.paused)
        .bind(new.overlap.as_str())
        .bind(new.misfire.as_str())
        .bind(new.catchup_window_ms)
        .bind(new.jitter_ms)
        .bind(new.timeout_ms)
        .bind(new.memory_limit_bytes)
        .bind(to_json_text(&new.allowed_hosts))
        .bind(to_json_text(&new.failure))
        .bind(to_json_text(&new.secrets))
        .bind(new.managed_by.as_deref())
}

/// Jobs of one multi-row insert: 500 rows of 21 parameters stay below every engine's limit
/// of parameters in a statement.
const INSERT_ROWS: usize = 500;

/// Inserts `jobs` in one write transaction, a multi-row statement per [`INSERT_ROWS`], each
/// anchored at the database's instant read at its start (returned).
pub(super) async fn create_many<E: SqlEngine>(
    engine: &E,
    jobs: &[(String, NewJob)],
) -> Result<i64, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let now: i64 = Stmt::<E::Db>::new(E::SQL.now).scalar(held.on()).await?;
    for chunk in jobs.chunks(INSERT_ROWS) {
        let mut stmt = Stmt::<E::Db>::new(
            "INSERT INTO jobs (id, name, schedule, timezone, plugin, input, config, paused, \
             overlap, misfire, catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, \
             allowed_hosts, failure, secrets, managed_by, owner, epoch, version, anchor_ms, \
             created_at_ms, updated_at_ms) VALUES ",
        );
        for (i, (id, new)) in chunk.iter().enumerate() {
            stmt = stmt
                .push(if i == 0 { "(" } else { ", (" })
                .push_bind(id.as_str())
                .push(", ")
                .push_bind(new.name.as_str())
                .push(", ")
                .push_bind(new.schedule.as_str())
                .push(", ")
                .push_bind(new.timezone.as_str())
                .push(", ")
                .push_bind(new.plugin.as_str())
                .push(", ")
                .push_bind(to_json_text(&new.input))
                .push(", ")
                .push_bind(to_json_text(&new.config))
                .push(", ")
                .push_bind(new.paused)
                .push(", ")
                .push_bind(new.overlap.as_str())
                .push(", ")
                .push_bind(new.misfire.as_str())
                .push(", ")
                .push_bind(new.catchup_window_ms)
                .push(", ")
                .push_bind(new.jitter_ms)
                .push(", ")
                .push_bind(new.timeout_ms)
                .push(", ")
                .push_bind(new.memory_limit_bytes)
                .push(", ")
                .push_bind(to_json_text(&new.allowed_hosts))
                .push(", ")
                .push_bind(to_json_text(&new.failure))
                .push(", ")
                .push_bind(to_json_text(&new.secrets))
                .push(", ")
                .push_bind(new.managed_by.as_deref())
                .push(", NULL, 0, 1, ")
                .push_bind(now)
                .push(", ")
                .push_bind(now)
                .push(", ")
                .push_bind(now)
                .push(")");
        }
        let first = chunk.first().map_or("", |(_, new)| new.name.as_str());
        stmt.execute(held.on())
            .await
            .map_err(|e| name_conflict(e, &format!("{first} (or another job of the list)")))?;
    }
    tx.commit().await?;
    Ok(now)
}

pub(super) async fn create<E: SqlEngine>(
    engine: &E,
    id: &str,
    new: &NewJob,
) -> Result<Job, StoreError> {
    let row: JobRow = insert_job_stmt::<E>(id, new)
        .fetch_one(engine.on())
        .await
        .map_err(|e| name_conflict(e, &new.name))?;
    Job::try_from(row)
}

pub(super) async fn get<E: SqlEngine>(
    engine: &E,
    id_or_name: &str,
) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = Stmt::new(E::SQL.job_by_id_or_name)
        .bind(id_or_name)
        .bind(id_or_name)
        .bind(id_or_name)
        .fetch_optional(engine.on())
        .await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn get_by_id<E: SqlEngine>(
    engine: &E,
    id: &str,
) -> Result<Option<Job>, StoreError> {
    let row: Option<JobRow> = Stmt::new(E::SQL.job_by_id)
        .bind(id)
        .fetch_optional(engine.on())
        .await?;
    row.map(Job::try_from).transpose()
}

pub(super) async fn list<E: SqlEngine>(
    engine: &E,
    filter: &JobFilter,
    page: &JobPage,
) -> Result<Vec<Job>, StoreError> {
    // Only the conditions given, so each can use its index (a `$1 IS NULL OR …` condition in
    // a plan made once for every value could not).
    let mut stmt = Stmt::<E::Db>::new(E::SQL.list_jobs);
    let mut and = {
        let mut first = true;
        move || {
            if std::mem::take(&mut first) {
                " WHERE "
            } else {
                " AND "
            }
        }
    };
    if let Some(plugin) = filter.plugin.as_deref() {
        stmt = stmt.push(and()).push("plugin = ").push_bind(plugin);
    }
    if let Some(paused) = filter.paused {
        stmt = stmt.push(and()).push("paused = ").push_bind(paused);
    }
    if let Some(owner) = filter.owner.as_deref() {
        stmt = stmt.push(and()).push("owner = ").push_bind(owner);
    }
    if let Some(text) = filter.search.as_deref() {
        // A scan in name order, stopped at the page's end: fast where matches are common,
        // one pass over the jobs where they are rare. `!` escapes the pattern's own
        // wildcards (a backslash would mean something else to MySQL's string literals).
        let pattern = format!("%{}%", like_escaped(&text.to_ascii_lowercase()));
        stmt = stmt
            .push(and())
            .push("(LOWER(name) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '!' OR LOWER(plugin) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '!')");
    }
    if let Some(after) = page.after_name.as_deref() {
        stmt = stmt.push(and()).push("name > ").push_bind(after);
    }
    let rows: Vec<JobRow> = stmt
        .push(" ORDER BY name LIMIT ")
        .push_bind(page.limit.max(0))
        .fetch_all(engine.on())
        .await?;
    jobs_from_rows(rows)
}

/// `text` with `LIKE`'s wildcards and the escape character `!` escaped by `!`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

/// The catalogue's `update_job` with its parameters bound.
pub(crate) fn update_job_stmt<E: SqlEngine>(edit: &JobEdit<'_>) -> Stmt<E::Db> {
    let job = edit.job;
    Stmt::new(E::SQL.update_job)
        .bind(job.name.as_str())
        .bind(job.schedule.as_str())
        .bind(job.timezone.as_str())
        .bind(job.plugin.as_str())
        .bind(to_json_text(&job.input))
        .bind(to_json_text(&job.config))
        .bind(job.paused)
        .bind(job.overlap.as_str())
        .bind(job.misfire.as_str())
        .bind(job.catchup_window_ms)
        .bind(job.jitter_ms)
        .bind(job.timeout_ms)
        .bind(job.memory_limit_bytes)
        .bind(to_json_text(&job.allowed_hosts))
        .bind(to_json_text(&job.failure))
        .bind(job.paused_reason.map(|r| r.as_str()))
        .bind(to_json_text(&job.secrets))
        .bind(edit.move_anchor)
        .bind(job.id.as_str())
        .bind(edit.read_version)
}

pub(super) async fn update<E: SqlEngine>(
    engine: &E,
    edit: JobEdit<'_>,
) -> Result<Option<Job>, StoreError> {
    if !edit.drop_retries {
        let row: Option<JobRow> = update_job_stmt::<E>(&edit)
            .fetch_optional(engine.on())
            .await
            .map_err(|e| name_conflict(e, &edit.job.name))?;
        return row.map(Job::try_from).transpose();
    }
    // The edit and the drop of the planned retries it makes obsolete commit together.
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let row: Option<JobRow> = update_job_stmt::<E>(&edit)
        .fetch_optional(held.on())
        .await
        .map_err(|e| name_conflict(e, &edit.job.name))?;
    if row.is_some() {
        Stmt::<E::Db>::new(E::SQL.drop_retries)
            .bind(edit.job.id.as_str())
            .execute(held.on())
            .await?;
    }
    tx.commit().await?;
    row.map(Job::try_from).transpose()
}

/// Writes `edits` in one write transaction; the first whose job moved on since it was read
/// refuses them all. The database's instant read at its start.
pub(super) async fn update_many<E: SqlEngine>(
    engine: &E,
    edits: &[JobEdit<'_>],
) -> Result<i64, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let now: i64 = Stmt::<E::Db>::new(E::SQL.now).scalar(held.on()).await?;
    for edit in edits {
        // Rows matched, on every engine (MySQL is asked for found rows).
        let matched = update_job_stmt::<E>(edit)
            .execute(held.on())
            .await
            .map_err(|e| name_conflict(e, &edit.job.name))?;
        if matched == 0 {
            tx.rollback().await?;
            return Err(match get_by_id(engine, &edit.job.id).await? {
                Some(job) => StoreError::VersionConflict {
                    id: edit.job.id.clone(),
                    expected: edit.read_version,
                    found: job.version,
                },
                None => StoreError::JobNotFound(edit.job.id.clone()),
            });
        }
        if edit.drop_retries {
            Stmt::<E::Db>::new(E::SQL.drop_retries)
                .bind(edit.job.id.as_str())
                .execute(held.on())
                .await?;
        }
    }
    tx.commit().await?;
    Ok(now)
}

/// Deletes the jobs of `ids` (their runs, state and triggers go by the foreign keys) in one
/// write transaction, [`INSERT_ROWS`] ids per statement.
pub(super) async fn delete_many<E: SqlEngine>(
    engine: &E,
    ids: &[String],
) -> Result<u64, StoreError> {
    let mut tx = engine.begin_write().await?;
    let mut held = engine.held(&mut tx);
    let mut deleted = 0;
    for chunk in ids.chunks(INSERT_ROWS) {
        let mut stmt = Stmt::<E::Db>::new("DELETE FROM jobs WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            stmt = stmt
                .push(if i == 0 { "" } else { ", " })
                .push_bind(id.as_str());
        }
        deleted += stmt.push(")").execute(held.on()).await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

pub(super) async fn delete<E: SqlEngine>(engine: &E, id: &str) -> Result<bool, StoreError> {
    let deleted = Stmt::new(E::SQL.delete_job)
        .bind(id)
        .execute(engine.on())
        .await?;
    Ok(deleted > 0)
}
