//! `--jobs-file`: the jobs of the cluster, declared in a file (a list of jobs in the API's
//! fields, as YAML or JSON) that is the source of truth for the jobs it declares.
//!
//! - [`parse`]: reading a file whole, with one error that says where ([`JobsFileError`]:
//!   the file, the line and column, the entry — its position from 1, and its name — and
//!   the field). A file ending in `.json` is read as JSON; anything else as YAML (of which
//!   JSON is a part).
//! - [`watch`]: the watcher every replica runs; the leader applies, the others compare.
//! - [`status`]: what a replica knows of its file, for `GET /api/v1/jobs-file`.

mod parse;
mod status;
mod watch;

pub use parse::{FileText, JobsFileError, MAX_FILE_BYTES, entry_error, parse, read, read_text};
pub use status::{AppliedVersion, Counts, FileError, FileVersion, JobsFileStatus, SharedStatus};
pub use watch::{PluginLoaded, Watcher};

#[cfg(test)]
mod tests;
