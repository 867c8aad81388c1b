//! What a replica knows of its jobs file, as `GET /api/v1/jobs-file` shows it: the version it
//! read, the version the cluster's jobs were last found to match, whether they match now,
//! and the last error.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use utoipa::ToSchema;

/// The jobs file as this replica sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct JobsFileStatus {
    /// The file's path: also the `managed_by` of the jobs it declares.
    pub path: String,
    /// Whether this replica applies the file (it leads the cluster); the others compare
    /// their copy with the cluster's jobs and report a difference.
    pub applier: bool,
    /// The version last read (absent until the file was read once).
    pub read: Option<FileVersion>,
    /// The newest version the cluster's jobs were found to match, by this replica: when it
    /// applied it, or found it already applied.
    pub applied: Option<AppliedVersion>,
    /// Whether the cluster's jobs match the version read, as of `checked_at` (absent while
    /// the file is refused or was not compared yet).
    pub in_sync: Option<bool>,
    /// What applying the version read would change, when it does not match.
    pub pending: Option<Counts>,
    /// When the version read was last compared with the cluster's jobs.
    pub checked_at: Option<String>,
    /// Why the newest version read was refused: nothing of it was applied.
    pub error: Option<FileError>,
    /// Entries whose plugin is not loaded (yet): applied, their runs fail until it is.
    pub warnings: Vec<String>,
}

/// A version of the file.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FileVersion {
    /// `sha256:` and the hex digest of its content.
    pub digest: String,
    /// When it was read (database clock).
    pub at: String,
}

/// The version the cluster's jobs match, and what applying it changed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AppliedVersion {
    pub digest: String,
    /// When it was applied, or found applied (database clock).
    pub at: String,
    /// What this replica changed applying it (all zero: it was applied already).
    pub changes: Counts,
}

/// Jobs created, updated and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

/// Why a version was refused, and where.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FileError {
    /// The whole message: file, line and column, entry and field as known.
    pub message: String,
    /// The digest of the refused version (absent when it could not be read).
    pub digest: Option<String>,
    /// The line and column where the parser stopped, from 1.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The entry at fault: its position from 1, and its name.
    pub entry: Option<usize>,
    pub name: Option<String>,
    /// The field at fault.
    pub field: Option<String>,
    /// When it was refused (database clock).
    pub at: String,
}

/// A replica's jobs file status, shared by its watcher and its API.
#[derive(Debug, Clone, Default)]
pub struct SharedStatus(Arc<Mutex<Option<JobsFileStatus>>>);

impl SharedStatus {
    /// The status (`None`: this replica has no jobs file).
    pub fn get(&self) -> Option<JobsFileStatus> {
        self.0.lock().expect("jobs file status").clone()
    }

    /// Change the status.
    pub(super) fn update(&self, change: impl FnOnce(&mut JobsFileStatus)) {
        let mut status = self.0.lock().expect("jobs file status");
        change(status.get_or_insert_with(JobsFileStatus::default));
    }
}
