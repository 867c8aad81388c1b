//! `--jobs-file`: a JSON array of jobs (the API's job fields) created at start when no job of
//! that name exists yet. Existing jobs are left as they are (edit them through the API).

use std::path::Path;

use anyhow::Context;

use crate::jobs::{JobError, JobFields, Jobs};
use crate::store::{Actor, StoreError};

/// Create the jobs of the file at `path` that do not exist yet. Every entry is validated
/// before any is created: an invalid entry (named by its position and field) changes nothing.
pub async fn apply(jobs: &Jobs, path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read jobs file {}", path.display()))?;
    let entries: Vec<JobFields> = serde_json::from_str(&text)
        .with_context(|| format!("jobs file {} is not a JSON array of jobs", path.display()))?;
    for (i, fields) in entries.iter().enumerate() {
        fields.new_job().map_err(|e| {
            anyhow::anyhow!(
                "jobs file {}: job #{} field {}: {}",
                path.display(),
                i + 1,
                e.field,
                e.message
            )
        })?;
    }
    for fields in &entries {
        match jobs.create(fields, &Actor::JobsFile).await {
            Ok(job) => tracing::info!(job = %job.name, "created job from jobs file"),
            Err(JobError::Store(StoreError::DuplicateName(name))) => {
                tracing::debug!(job = %name, "job exists; jobs file entry left alone")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
