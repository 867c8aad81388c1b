//! Where the plugins' files are: the `*.wasm` files of the plugins directory, and the files
//! fetched for plugins that follow an OCI reference (`--plugin-ref NAME=REF`), which the
//! registry follower hands over as [`ReferencedPlugin`]s. A name that is both a file of the
//! directory and a reference is a clash: neither is served, and the plugin shows why.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A plugin that follows an OCI reference, as the registry follower last left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferencedPlugin {
    /// The reference it follows, as given.
    pub reference: String,
    /// The component file of the version to serve; `None` until one was fetched.
    pub file: Option<PathBuf>,
    /// The last error of the registry or the fetched content; a version fetched before keeps
    /// serving meanwhile.
    pub error: Option<String>,
}

/// What identifies one version of a file on disk without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Fingerprint {
    fn of(meta: &std::fs::Metadata) -> Fingerprint {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Fingerprint {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }

    /// Whether the file's last modification is older than `age` (it is not being written).
    pub(super) fn older_than(&self, age: std::time::Duration) -> bool {
        self.modified
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|elapsed| elapsed > age)
    }
}

/// The plugins found: the file of each, and the names that cannot be served with the reason.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub files: HashMap<String, (PathBuf, Fingerprint)>,
    pub unavailable: HashMap<String, String>,
}

/// The plugin named by a directory entry: a visible `*.wasm` file, named by its stem.
pub(super) fn plugin_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    if file.starts_with('.') || file.starts_with('#') || file.ends_with('~') {
        return None;
    }
    let stem = file.strip_suffix(".wasm")?;
    (!stem.is_empty()).then(|| stem.to_string())
}

/// Lists the plugins of `dir` and of `references`. `None` when the directory exists but cannot
/// be read (a scan then changes nothing); a missing directory has no plugins.
pub(super) fn collect(
    dir: &Path,
    references: &BTreeMap<String, ReferencedPlugin>,
) -> Option<Found> {
    let mut found = Found::default();
    match std::fs::read_dir(dir) {
        Ok(read) => {
            for entry in read.flatten() {
                let path = entry.path();
                let Some(name) = plugin_name(&path) else {
                    continue;
                };
                // Follows symlinks (ConfigMap volumes).
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if meta.is_file() {
                    found.files.insert(name, (path, Fingerprint::of(&meta)));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !references.is_empty() => {}
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read plugins directory");
            return None;
        }
    }
    for (name, referenced) in references {
        if found.files.remove(name).is_some() {
            found.unavailable.insert(
                name.clone(),
                format!(
                    "plugin name clash: {name}.wasm is in the plugins directory and \
                     --plugin-ref {name}={} names a registry plugin; rename one of them",
                    referenced.reference
                ),
            );
            continue;
        }
        let file = referenced
            .file
            .as_ref()
            .and_then(|f| std::fs::metadata(f).ok().map(|m| (f.clone(), m)));
        match file {
            Some((path, meta)) => {
                found
                    .files
                    .insert(name.clone(), (path, Fingerprint::of(&meta)));
            }
            None => {
                let error = referenced
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("not fetched from {} yet", referenced.reference));
                found.unavailable.insert(name.clone(), error);
            }
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visible_wasm_files_are_plugins() {
        assert_eq!(
            plugin_name(Path::new("/p/hello.wasm")).as_deref(),
            Some("hello")
        );
        assert_eq!(plugin_name(Path::new("/p/.hello.wasm.swp")), None);
        assert_eq!(plugin_name(Path::new("/p/.hello.wasm")), None);
        assert_eq!(plugin_name(Path::new("/p/hello.wasm~")), None);
        assert_eq!(plugin_name(Path::new("/p/hello.txt")), None);
        assert_eq!(plugin_name(Path::new("/p/..data")), None);
        assert_eq!(plugin_name(Path::new("/p/.wasm")), None);
    }

    #[test]
    fn a_name_in_the_directory_and_in_the_references_is_a_clash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hello.wasm"), b"x").unwrap();
        std::fs::write(dir.path().join("other.wasm"), b"x").unwrap();
        let fetched = dir.path().join("fetched");
        std::fs::write(&fetched, b"y").unwrap();
        let references = BTreeMap::from([
            (
                "hello".to_string(),
                ReferencedPlugin {
                    reference: "registry.example/hello:1".into(),
                    file: Some(fetched.clone()),
                    error: None,
                },
            ),
            (
                "pending".to_string(),
                ReferencedPlugin {
                    reference: "registry.example/pending:1".into(),
                    file: None,
                    error: None,
                },
            ),
            (
                "fetched".to_string(),
                ReferencedPlugin {
                    reference: "registry.example/fetched:1".into(),
                    file: Some(fetched.clone()),
                    error: Some("registry down".into()),
                },
            ),
        ]);
        let found = collect(dir.path(), &references).unwrap();
        let mut files: Vec<_> = found.files.keys().cloned().collect();
        files.sort();
        assert_eq!(files, ["fetched", "other"]);
        assert!(found.unavailable["hello"].starts_with("plugin name clash: hello.wasm"));
        assert_eq!(
            found.unavailable["pending"],
            "not fetched from registry.example/pending:1 yet"
        );
    }
}
