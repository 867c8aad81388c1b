//! Reading a jobs file: its text, parsed and checked whole, or one error that says where.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::jobs::{EntryError, JobFields, check_entries};
use crate::store::NewJob;

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
    #[error("jobs file {file}{}: entry #{index} ({}) field {field}: {message}", at(*line, None), name.as_deref().unwrap_or("no name"))]
    Entry {
        file: String,
        /// The line the entry starts on, when known (a YAML list written one entry per
        /// `- ` item).
        line: Option<usize>,
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
/// a valid new job and no two have the same name. The entries as written, and as new jobs.
pub fn parse(text: &str, file: &str) -> Result<(Vec<JobFields>, Vec<NewJob>), JobsFileError> {
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
    let jobs = check_entries(&entries).map_err(|e| entry_error(file, text, e))?;
    Ok((entries, jobs))
}

/// `error` of an entry of `text`, the content of the file named `file`.
pub fn entry_error(file: &str, text: &str, error: EntryError) -> JobsFileError {
    let line = if file.ends_with(".json") {
        None
    } else {
        entry_line(text, error.index)
    };
    JobsFileError::Entry {
        file: file.to_owned(),
        line,
        index: error.index,
        name: error.name,
        field: error.field,
        message: error.message,
    }
}

/// The line (from 1) on which the `index`th (from 1) item of a YAML block list starts: the
/// lines that begin with `-` at the indentation of the first one.
fn entry_line(text: &str, index: usize) -> Option<usize> {
    let mut indent = None;
    let mut seen = 0;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let here = line.len() - trimmed.len();
        if !(trimmed.starts_with("- ") || trimmed == "-") || indent.is_some_and(|i| i != here) {
            continue;
        }
        indent = Some(here);
        seen += 1;
        if seen == index {
            return Some(n + 1);
        }
    }
    None
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

/// A file read whole: its text and digest (`sha256:` and hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileText {
    pub text: String,
    pub digest: String,
}

/// Reads the file at `path`, [`MAX_FILE_BYTES`] at most.
pub fn read_text(path: &Path) -> Result<FileText, JobsFileError> {
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
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())));
    Ok(FileText { text, digest })
}

/// Reads the file at `path` ([`MAX_FILE_BYTES`] at most) and [`parse`]s it.
pub fn read(path: &Path) -> Result<(Vec<JobFields>, Vec<NewJob>), JobsFileError> {
    parse(&read_text(path)?.text, &path.display().to_string())
}
