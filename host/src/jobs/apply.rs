//! Declarative jobs: a list of jobs in the API's fields (a jobs file, `wasmcron job apply`)
//! applied to the cluster. [`check_entries`] validates the whole list first; [`Jobs::plan`]
//! compares it with the stored jobs and says what to create, update (with the fields that
//! differ) and delete; [`Jobs::apply`] carries a plan out.
//!
//! A list has a *source* (the jobs file's path, or the name `job apply` was given): the jobs
//! it creates are marked `managed_by` it, only those are updated by it and, when pruning,
//! deleted when no longer listed. A job's `paused` is taken from its entry only when it is
//! created: pausing and resuming are operations, and a re-applied list does not undo them.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::audit::{self, changed, entry, user_fields};
use super::error::JobError;
use super::fields::JobFields;
use super::service::Jobs;
use crate::events::JobChange;
use crate::store::{Actor, AuditAction, Job, JobPatch, NewJob, patched};

/// An entry of a list that is not a valid job: which entry, which field, what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry #{index} ({}) field {field}: {message}", name.as_deref().unwrap_or("no name"))]
pub struct EntryError {
    /// The entry's position, from 1.
    pub index: usize,
    /// Its name, when it has one.
    pub name: Option<String>,
    /// The field as clients spell it.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

/// Every entry is a valid new job and no two have the same name: the new jobs, in order;
/// else the first entry at fault.
pub fn check_entries(entries: &[JobFields]) -> Result<Vec<NewJob>, EntryError> {
    check_all_entries(entries).map_err(|mut errors| errors.swap_remove(0))
}

/// As [`check_entries`], with every entry at fault (one error per entry, in order).
pub fn check_all_entries(entries: &[JobFields]) -> Result<Vec<NewJob>, Vec<EntryError>> {
    let mut names = HashSet::new();
    let mut jobs = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    for (i, fields) in entries.iter().enumerate() {
        let error = |field: &str, message: String| EntryError {
            index: i + 1,
            name: fields.name.clone(),
            field: field.to_owned(),
            message,
        };
        match fields.new_job() {
            Err(e) => errors.push(error(&e.field, e.message)),
            Ok(job) if !names.insert(job.name.clone()) => errors.push(error(
                "name",
                format!("another entry is named {:?}", job.name),
            )),
            Ok(job) => jobs.push(job),
        }
    }
    if errors.is_empty() {
        Ok(jobs)
    } else {
        Err(errors)
    }
}

/// What a plan does to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
}

/// One field's value before and after a change (`null` for none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub before: Value,
    pub after: Value,
}

/// One job a plan changes, with the fields an update changes (none for a creation, which is
/// its entry, or a deletion: a list of 100,000 new jobs plans in megabytes, not hundreds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub action: ChangeKind,
    pub name: String,
    pub fields: BTreeMap<String, FieldChange>,
}

/// How a plan treats an entry whose name a job not managed by the list's source already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    /// Always an error (a watched jobs file: it cannot be the source of truth of that job).
    Refuse,
    /// An error only when the entry differs from the job; an identical one is left alone
    /// (`job apply` of an export).
    IfDifferent,
}

/// What applying a list would change, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The list's source.
    pub source: String,
    /// The jobs created, updated and deleted, in that order.
    pub changes: Vec<Change>,
    /// Entries that already match their job.
    pub unchanged: usize,
    steps: Vec<Step>,
}

impl Plan {
    /// How many jobs of each kind of change: `(create, update, delete)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |kind| self.changes.iter().filter(|c| c.action == kind).count();
        (
            count(ChangeKind::Create),
            count(ChangeKind::Update),
            count(ChangeKind::Delete),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Create(Box<NewJob>),
    Update { job: Box<Job>, patch: Box<JobPatch> },
    Delete(Box<Job>),
}

/// Jobs are read a page of this many at a time.
const PAGE: i64 = 1000;

impl Jobs {
    /// Every stored job, by name (read a page of [`PAGE`] at a time).
    pub async fn all_jobs(&self) -> Result<Vec<Job>, JobError> {
        let mut all = Vec::new();
        let mut pages = self.store().job_pages(PAGE);
        while let Some(jobs) = pages.next().await? {
            all.extend(jobs);
        }
        Ok(all)
    }

    /// What applying `desired` (checked by [`check_entries`]) from `source` would change;
    /// with `prune`, the jobs managed by `source` that `desired` no longer lists are deleted.
    /// An entry whose name a job of another source (or made through the API) has is an
    /// error for that entry, as `foreign` says.
    pub async fn plan(
        &self,
        source: &str,
        desired: Vec<NewJob>,
        prune: bool,
        foreign: Foreign,
    ) -> Result<Plan, PlanError> {
        let current = self.all_jobs().await?;
        let mut by_name: HashMap<&str, &Job> =
            current.iter().map(|j| (j.name.as_str(), j)).collect();
        let mut plan = Plan {
            source: source.to_owned(),
            changes: Vec::new(),
            unchanged: 0,
            steps: Vec::new(),
        };
        let mut updates = Vec::new();
        for (i, mut new) in desired.into_iter().enumerate() {
            let Some(job) = by_name.remove(new.name.as_str()) else {
                new.managed_by = Some(source.to_owned());
                plan.changes.push(Change {
                    action: ChangeKind::Create,
                    name: new.name.clone(),
                    fields: BTreeMap::new(),
                });
                plan.steps.push(Step::Create(Box::new(new)));
                continue;
            };
            let patch = patch_between(job, &new);
            let mine = job.managed_by.as_deref() == Some(source);
            if !mine && (foreign == Foreign::Refuse || patch != JobPatch::default()) {
                let owner = match &job.managed_by {
                    None => "was made through the API".to_owned(),
                    Some(other) => format!("is managed by {other}"),
                };
                return Err(PlanError::Entry(EntryError {
                    index: i + 1,
                    name: Some(new.name.clone()),
                    field: "name".into(),
                    message: format!(
                        "a job named {:?} exists and {owner}, not by {source}: rename the \
                         entry, or delete that job first",
                        new.name
                    ),
                }));
            }
            if patch == JobPatch::default() {
                plan.unchanged += 1;
                continue;
            }
            let (was, is) = changed(job, &patched(job.clone(), &patch));
            updates.push((job, patch, field_changes(was, is)));
        }
        for (job, patch, fields) in updates {
            plan.changes.push(Change {
                action: ChangeKind::Update,
                name: job.name.clone(),
                fields,
            });
            plan.steps.push(Step::Update {
                job: Box::new(job.clone()),
                patch: Box::new(patch),
            });
        }
        if prune {
            let mut gone: Vec<&Job> = by_name
                .into_values()
                .filter(|j| j.managed_by.as_deref() == Some(source))
                .collect();
            gone.sort_by(|a, b| a.name.cmp(&b.name));
            for job in gone {
                plan.changes.push(Change {
                    action: ChangeKind::Delete,
                    name: job.name.clone(),
                    fields: BTreeMap::new(),
                });
                plan.steps.push(Step::Delete(Box::new(job.clone())));
            }
        }
        Ok(plan)
    }

    /// Carry `plan` out on `actor`'s account: the jobs created, then updated (each only if it
    /// is still at the version planned), then deleted, a transaction per [`BATCH`] jobs; every
    /// change recorded in the audit log and (up to [`MAX_EVENTS`]) published; the replicas
    /// told once at the end. Stops at the first failure (what was done stays; planning again
    /// converges).
    pub async fn apply(&self, plan: &Plan, actor: &Actor) -> Result<(), JobError> {
        let result = self.apply_steps(&plan.steps, actor).await;
        if !plan.steps.is_empty() {
            self.announce_all();
        }
        result
    }

    async fn apply_steps(&self, steps: &[Step], actor: &Actor) -> Result<(), JobError> {
        let mut published = 0;
        let mut publish = |job: &Job, change| {
            if published < MAX_EVENTS {
                self.publish(job, change);
                published += 1;
            }
        };
        let creates: Vec<NewJob> = steps
            .iter()
            .filter_map(|step| match step {
                Step::Create(new) => Some((**new).clone()),
                _ => None,
            })
            .collect();
        for chunk in creates.chunks(BATCH) {
            let jobs = self.store().create_jobs(chunk.to_vec()).await?;
            let entries: Vec<_> = jobs
                .iter()
                .map(|job| {
                    let after = Some(user_fields(job).into());
                    entry(actor, AuditAction::JobCreated, job, None, after)
                })
                .collect();
            audit::record_all(self.store(), &entries).await;
            for job in &jobs {
                publish(job, JobChange::Created);
            }
        }
        let updates: Vec<(Job, JobPatch)> = steps
            .iter()
            .filter_map(|step| match step {
                Step::Update { job, patch } => Some(((**job).clone(), (**patch).clone())),
                _ => None,
            })
            .collect();
        for chunk in updates.chunks(BATCH) {
            let edited = self.store().update_jobs(chunk).await?;
            let entries: Vec<_> = chunk
                .iter()
                .zip(&edited)
                .map(|((before, _), after)| {
                    let (was, is) = changed(before, after);
                    entry(actor, AuditAction::JobUpdated, after, Some(was), Some(is))
                })
                .collect();
            audit::record_all(self.store(), &entries).await;
            for job in &edited {
                publish(job, JobChange::Updated);
            }
        }
        let deletes: Vec<&Job> = steps
            .iter()
            .filter_map(|step| match step {
                Step::Delete(job) => Some(&**job),
                _ => None,
            })
            .collect();
        for chunk in deletes.chunks(BATCH) {
            let ids: Vec<String> = chunk.iter().map(|j| j.id.clone()).collect();
            self.store().delete_jobs(&ids).await?;
            let entries: Vec<_> = chunk
                .iter()
                .map(|job| {
                    let before = Some(user_fields(job).into());
                    entry(actor, AuditAction::JobDeleted, job, before, None)
                })
                .collect();
            audit::record_all(self.store(), &entries).await;
            for job in chunk {
                publish(job, JobChange::Deleted);
            }
        }
        if published == MAX_EVENTS {
            tracing::info!(
                changes = steps.len(),
                "a large apply: job.changed published for the first {MAX_EVENTS} changes only; the audit log holds every one"
            );
        }
        Ok(())
    }
}

/// Jobs created, updated or deleted by one operation of the store (one transaction).
const BATCH: usize = 2_000;

/// The most `job.changed` events one application publishes: the event stream is for
/// watching, and a list of 100,000 jobs would hold every replica's events behind it for a
/// minute. The audit log holds every change.
const MAX_EVENTS: usize = 1_000;

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// An entry names a job the list's source does not manage.
    #[error(transparent)]
    Entry(EntryError),
    /// The jobs could not be read.
    #[error(transparent)]
    Job(#[from] JobError),
}

impl From<crate::store::StoreError> for PlanError {
    fn from(e: crate::store::StoreError) -> Self {
        PlanError::Job(e.into())
    }
}

fn field_changes(was: Value, is: Value) -> BTreeMap<String, FieldChange> {
    let (Value::Object(was), Value::Object(is)) = (was, is) else {
        return BTreeMap::new();
    };
    is.into_iter()
        .map(|(k, after)| {
            let before = was.get(&k).cloned().unwrap_or(Value::Null);
            (k, FieldChange { before, after })
        })
        .collect()
}

/// The edit that makes `job`'s spec `new`'s: the fields that differ, `paused` left out.
fn patch_between(job: &Job, new: &NewJob) -> JobPatch {
    fn differs<T: PartialEq + Clone>(current: &T, wanted: &T) -> Option<T> {
        (current != wanted).then(|| wanted.clone())
    }
    let failure = (&job.failure, &new.failure);
    JobPatch {
        name: None,
        schedule: differs(&job.schedule, &new.schedule),
        timezone: differs(&job.timezone, &new.timezone),
        plugin: differs(&job.plugin, &new.plugin),
        input: differs(&job.input, &new.input),
        config: differs(&job.config, &new.config),
        paused: None,
        overlap: differs(&job.overlap, &new.overlap),
        misfire: differs(&job.misfire, &new.misfire),
        catchup_window_ms: differs(&job.catchup_window_ms, &new.catchup_window_ms),
        jitter_ms: differs(&job.jitter_ms, &new.jitter_ms),
        timeout_ms: differs(&job.timeout_ms, &new.timeout_ms),
        memory_limit_bytes: differs(&job.memory_limit_bytes, &new.memory_limit_bytes),
        allowed_hosts: differs(&job.allowed_hosts, &new.allowed_hosts),
        retry: differs(&failure.0.retry, &failure.1.retry),
        pause_after_failures: differs(
            &failure.0.pause_after_failures,
            &failure.1.pause_after_failures,
        ),
        stale_after_ms: differs(&failure.0.stale_after_ms, &failure.1.stale_after_ms),
        secrets: differs(&job.secrets, &new.secrets),
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
