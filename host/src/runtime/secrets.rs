//! Secrets from files (`--secrets-dir`, e.g. a mounted Kubernetes Secret): a job maps config
//! keys to secret names, and `config-get` of such a key returns the content of the file of
//! that name, read at the call (so a rotated Secret is seen by the next run, including
//! Kubernetes' `..data` symlink swap). Every value a run read, and every value its job
//! references, is replaced by [`REDACTED`] in the run's log, result and error, and in the
//! plugin log lines the host writes to its own log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What a secret value is replaced with wherever it would be stored or sent.
pub const REDACTED: &str = "[redacted]";

/// Longest secret name (a Kubernetes Secret key is at most 253 characters).
pub const MAX_SECRET_NAME: usize = 253;

/// Largest secret file read: a bigger one fails the run rather than fill its memory.
const MAX_SECRET_BYTES: u64 = 1 << 20;

/// Why a secret name is refused: it must be a plain file name inside the secrets directory.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_SECRET_NAME {
        return Err(format!(
            "secret name must be 1 to {MAX_SECRET_NAME} characters"
        ));
    }
    if name.starts_with('.') {
        // Also `.` and `..`, and Kubernetes' own `..data` and `..2026_…` entries.
        return Err(format!("secret name {name:?} must not start with '.'"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '\0') || c.is_control())
    {
        return Err(format!(
            "secret name {name:?} contains {c:?}: a secret is a plain file name"
        ));
    }
    Ok(())
}

/// Why a run could not read one of its secrets; says which, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The replica was started without `--secrets-dir`.
    #[error(
        "config key {key:?} is the secret {name:?}, but this replica has no secrets directory (--secrets-dir)"
    )]
    NoDirectory { key: String, name: String },
    /// The name is not a plain file name (the row was changed behind the API's back).
    #[error("config key {key:?}: {reason}")]
    BadName { key: String, reason: String },
    /// The file is missing, unreadable, too large or not UTF-8.
    #[error("cannot read secret {name:?} (config key {key:?}) from {path}: {reason}")]
    Unreadable {
        key: String,
        name: String,
        path: String,
        reason: String,
    },
}

/// The secrets directory of a replica.
#[derive(Clone, Debug, Default)]
pub struct SecretsDir {
    dir: Option<PathBuf>,
}

impl SecretsDir {
    /// Secrets read from `dir`; `None`: no secrets directory (a job with secrets fails).
    pub fn new(dir: Option<PathBuf>) -> Self {
        SecretsDir { dir }
    }

    /// The directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The current value of secret `name` (config key `key`), one trailing newline trimmed.
    pub fn read(&self, key: &str, name: &str) -> Result<String, SecretError> {
        let Some(dir) = &self.dir else {
            return Err(SecretError::NoDirectory {
                key: key.to_owned(),
                name: name.to_owned(),
            });
        };
        check_secret_name(name).map_err(|reason| SecretError::BadName {
            key: key.to_owned(),
            reason,
        })?;
        let path = dir.join(name);
        let unreadable = |reason: String| SecretError::Unreadable {
            key: key.to_owned(),
            name: name.to_owned(),
            path: path.display().to_string(),
            reason,
        };
        let bytes = read_bounded(&path).map_err(unreadable)?;
        let mut text =
            String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".to_owned()))?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Ok(text)
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    // Opening the path follows the symlinks each time: a swapped `..data` is seen at once.
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(format!("larger than {MAX_SECRET_BYTES} bytes"));
    }
    Ok(bytes)
}

/// The secret values one run has seen, to be redacted from everything it produces. Cheap to
/// clone (clones share the values).
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    values: Arc<Mutex<Vec<String>>>,
}

impl Redactor {
    /// Redact `value` from now on (empty values are not redacted: they would match anywhere).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut values = self.values.lock().expect("redactor lock");
        if !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
            // Longest first, so that a value containing another is replaced whole.
            values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// Add the current value of every secret of `secrets` that can be read (those that
    /// cannot were never seen by the run, or fail it elsewhere).
    pub fn add_current(&self, dir: &SecretsDir, secrets: &BTreeMap<String, String>) {
        for (key, name) in secrets {
            if let Ok(value) = dir.read(key, name) {
                self.add(&value);
            }
        }
    }

    /// `text` with every known secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let values = self.values.lock().expect("redactor lock");
        let mut text = text.to_owned();
        for value in values.iter() {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), REDACTED);
            }
        }
        text
    }

    /// [`Redactor::redact`] of an optional text.
    pub fn redact_opt(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.redact(&t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_secret_names() {
        for good in ["db-password", "API_KEY", "tls.crt", "a..b", "x"] {
            assert_eq!(check_secret_name(good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_SECRET_NAME + 1);
        for bad in [
            "",
            ".",
            "..",
            "..data",
            ".hidden",
            "a/b",
            "/etc/passwd",
            "a\\b",
            "\\x",
            "a\nb",
            &long,
        ] {
            assert!(check_secret_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn values_are_read_at_each_call_with_one_newline_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretsDir::new(Some(dir.path().to_owned()));
        std::fs::write(dir.path().join("token"), "s3cret\n\n").unwrap();
        assert_eq!(secrets.read("TOKEN", "token").unwrap(), "s3cret\n");
        std::fs::write(dir.path().join("token"), "rotated\r\n").unwrap();
        assert_eq!(secrets.read("TOKEN", "token").unwrap(), "rotated");
    }

    #[test]
    fn a_missing_secret_or_directory_is_named_without_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretsDir::new(Some(dir.path().to_owned()));
        let err = secrets.read("TOKEN", "token").unwrap_err().to_string();
        assert!(
            err.contains("\"token\"") && err.contains("\"TOKEN\""),
            "{err}"
        );
        let err = SecretsDir::new(None).read("TOKEN", "token").unwrap_err();
        assert!(matches!(err, SecretError::NoDirectory { .. }), "{err}");
        assert!(err.to_string().contains("--secrets-dir"), "{err}");
        let err = secrets.read("TOKEN", "../etc").unwrap_err();
        assert!(matches!(err, SecretError::BadName { .. }), "{err}");
    }

    #[test]
    fn a_symlink_swap_is_seen_by_the_next_read() {
        // Kubernetes: name -> ..data/name, ..data -> ..<timestamp>; an update swaps ..data.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (version, value) in [("..v1", "one"), ("..v2", "two")] {
            std::fs::create_dir(root.join(version)).unwrap();
            std::fs::write(root.join(version).join("token"), value).unwrap();
        }
        std::os::unix::fs::symlink("..v1", root.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/token", root.join("token")).unwrap();
        let secrets = SecretsDir::new(Some(root.to_owned()));
        assert_eq!(secrets.read("K", "token").unwrap(), "one");
        std::os::unix::fs::symlink("..v2", root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
        assert_eq!(secrets.read("K", "token").unwrap(), "two");
    }

    #[test]
    fn every_occurrence_of_every_value_is_redacted() {
        let redactor = Redactor::default();
        redactor.add("");
        assert_eq!(redactor.redact("abc"), "abc");
        redactor.add("pass");
        redactor.add("password1");
        let clone = redactor.clone();
        assert_eq!(
            clone.redact("password1 and pass, pass"),
            "[redacted] and [redacted], [redacted]"
        );
        assert_eq!(redactor.redact_opt(None), None);
        assert_eq!(
            redactor.redact_opt(Some("x pass".into())),
            Some("x [redacted]".into())
        );
    }
}
