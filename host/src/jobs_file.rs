//! `--jobs-file`: a list of jobs (the API's job fields) as YAML or JSON, created at start when
//! no job of that name exists yet. Existing jobs are left as they are (edit them through the
//! API).
//!
//! [`parse`] reads the whole file before anything is created and refuses it with one error
//! that says where ([`JobsFileError`]): the file, the line and column the parser stopped at,
//! the entry (its position from 1, and its name) and the field. A file ending in `.json` is
//! read as JSON; anything else as YAML (of which JSON is a part).

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use crate::jobs::{JobError, JobFields, Jobs};
use crate::store::{Actor, StoreError};

/// The largest jobs file read (a file above it is refused, not read).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a jobs file was refused: what was wrong and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JobsFileError {
    /// The file cannot be read (or is too large).
    #[error("jobs file {file}: {message}")]
    Unreadable { file: String, message: String },
    /// The text is not a list of jobs: a syntax error, an unknown or mistyped field.
    #[error("jobs file {file}{}: {message}", at(*line, *column))]
    Syntax {
        file: String,
        /// Where the parser stopped, from 1, when it knows.
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// An entry parsed but is not a valid job.
    #[error("jobs file {file}: entry #{index} ({}) field {field}: {message}", name.as_deref().unwrap_or("no name"))]
    Entry {
        file: String,
        /// The entry's position, from 1.
        index: usize,
        name: Option<String>,
        field: String,
        message: String,
    },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" line {line} column {column}"),
        (Some(line), None) => format!(" line {line}"),
        _ => String::new(),
    }
}

/// Reads and checks the jobs of `text`, the content of the file named `file`: every entry is
/// a valid new job and no two have the same name.
pub fn parse(text: &str, file: &str) -> Result<Vec<JobFields>, JobsFileError> {
    let syntax = |line, column, message: String| JobsFileError::Syntax {
        file: file.to_owned(),
        line,
        column,
        message,
    };
    let entries: Vec<JobFields> = if file.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| {
            let message = strip_position(&e.to_string());
            // serde_json counts from 1 and says 0 where it has no position.
            let known = |n: usize| (n > 0).then_some(n);
            syntax(known(e.line()), known(e.column()), message)
        })?
    } else {
        serde_norway::from_str(text).map_err(|e| {
            let location = e.location();
            let message = strip_position(&entry_path(&e.to_string()));
            syntax(
                location.as_ref().map(|l| l.line()),
                location.as_ref().map(|l| l.column()),
                message,
            )
        })?
    };
    let mut names = HashSet::new();
    for (i, fields) in entries.iter().enumerate() {
        let entry = |field: &str, message: String| JobsFileError::Entry {
            file: file.to_owned(),
            index: i + 1,
            name: fields.name.clone(),
            field: field.to_owned(),
            message,
        };
        fields.new_job().map_err(|e| entry(&e.field, e.message))?;
        if let Some(name) = &fields.name
            && !names.insert(name.as_str())
        {
            return Err(entry("name", format!("another entry is named {name:?}")));
        }
    }
    Ok(entries)
}

/// The parser's message without its own "at line L column C" (the error says it once).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The YAML parser names an entry by its path from 0 (`.[1].schedule: …`); say `entry #2
/// field schedule: …` as the rest of the errors do.
fn entry_path(message: &str) -> String {
    let Some(rest) = message.strip_prefix(".[") else {
        return message.to_owned();
    };
    let Some((index, rest)) = rest.split_once(']') else {
        return message.to_owned();
    };
    let Ok(index) = index.parse::<usize>() else {
        return message.to_owned();
    };
    match rest.strip_prefix('.').and_then(|r| r.split_once(": ")) {
        Some((field, what)) => format!("entry #{} field {field}: {what}", index + 1),
        None => format!(
            "entry #{}{}",
            index + 1,
            rest.strip_prefix(':')
                .map_or(String::new(), |r| format!(":{r}"))
        ),
    }
}

/// Reads the file at `path` ([`MAX_FILE_BYTES`] at most) and [`parse`]s it.
pub fn read(path: &Path) -> Result<Vec<JobFields>, JobsFileError> {
    let file = path.display().to_string();
    let unreadable = |message: String| JobsFileError::Unreadable {
        file: file.clone(),
        message,
    };
    // Read at most one byte past the limit: a size from the metadata is not one (a pipe, a
    // file still growing).
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| unreadable(format!("cannot read it: {e}")))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "more than {MAX_FILE_BYTES} bytes, the limit"
        )));
    }
    parse(&text, &file)
}

/// Create the jobs of the file at `path` that do not exist yet. Every entry is checked before
/// any is created: a file with an invalid entry changes nothing.
pub async fn apply(jobs: &Jobs, path: &Path) -> anyhow::Result<()> {
    let entries = read(path)?;
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

#[cfg(test)]
mod tests;
