//! `--jobs-file`: a JSON array of jobs (the API's job fields) created at start when no job of
//! that name exists yet. Existing jobs are left as they are (edit them through the API).

use std::path::Path;

use anyhow::Context;

use crate::api::JobFields;
use crate::store::{Store, StoreError};

pub async fn apply(store: &Store, path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read jobs file {}", path.display()))?;
    let jobs: Vec<JobFields> = serde_json::from_str(&text)
        .with_context(|| format!("jobs file {} is not a JSON array of jobs", path.display()))?;
    for (i, fields) in jobs.iter().enumerate() {
        fields.validate(true).map_err(|e| {
            anyhow::anyhow!(
                "jobs file {}: job #{} field {}: {}",
                path.display(),
                i + 1,
                e.field.as_deref().unwrap_or("?"),
                e.message
            )
        })?;
        match store.create_job(crate::api::new_job(fields)).await {
            Ok(job) => tracing::info!(job = %job.name, "created job from jobs file"),
            Err(StoreError::DuplicateName(name)) => {
                tracing::debug!(job = %name, "job exists; jobs file entry left alone")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
