//! What can go wrong with a job operation.

use crate::store::StoreError;

/// A field of a job that is missing or wrong: which field, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The field as clients spell it (`schedule`, `memory_limit`, …).
    pub field: String,
    /// What was wrong, naming the field and the value.
    pub message: String,
}

impl FieldError {
    /// `field` is wrong: `message` says how.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a job operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A field is missing or invalid.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// No job has this id or name.
    #[error("no job with id or name {0:?}")]
    NotFound(String),
    /// The job cannot be triggered now: a run is in progress and its overlap policy forbids
    /// another.
    #[error("{0}")]
    Busy(String),
    /// The job is managed by a jobs file (named): its spec changes only through the file.
    #[error(
        "job {job:?} is managed by {by}: change it there (pause, resume and trigger stay allowed)"
    )]
    Managed { job: String, by: String },
    /// The database refused or could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
}
