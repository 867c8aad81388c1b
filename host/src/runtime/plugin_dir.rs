//! The plugins directory: every `*.wasm` component in it is a plugin named by its file stem.
//!
//! The directory is scanned every [`SCAN_INTERVAL`], which handles every way files arrive:
//! atomic rename, in-place copy (a partially written file is retried until it is stable
//! instead of replacing a good version), editors' temporary and hidden files (ignored), and
//! Kubernetes ConfigMap/Secret volumes whose files are symlinks into a `..data` directory that
//! is swapped atomically (symlinks are followed; hidden entries are skipped). A run in flight
//! keeps the [`LoadedPlugin`] it started with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use wasmtime::component::Linker;

use super::artifact_cache::ArtifactCache;
use super::plugin::{self, LoadedPlugin};
use super::run_state::RunState;

/// How often the directory is scanned.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(200);

/// What a listing shows of one plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub digest: Option<String>,
    pub size: u64,
    pub loaded_at: Option<SystemTime>,
    pub error: Option<String>,
}

/// A change the last scan made, for logs and events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginChange {
    Loaded { name: String, digest: String },
    Failed { name: String, error: String },
    Removed { name: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn fingerprint(meta: &std::fs::Metadata) -> Fingerprint {
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

enum Slot {
    Loaded(Arc<LoadedPlugin>),
    Failed { error: String, size: u64 },
}

struct Entry {
    slot: Slot,
    seen: Fingerprint,
    /// A failed load of a changed file that is not yet reported (the file may still be
    /// being written): the fingerprint it failed with.
    pending_failure: Option<Fingerprint>,
}

/// The loaded plugins of one directory.
pub struct PluginDir {
    dir: PathBuf,
    linker: Linker<RunState>,
    cache: Option<ArtifactCache>,
    entries: RwLock<HashMap<String, Entry>>,
}

impl std::fmt::Debug for PluginDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginDir").field("dir", &self.dir).finish()
    }
}

/// Why a plugin cannot be used for a run right now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("plugin {0:?} is not in the plugins directory")]
    Missing(String),
    #[error("plugin {name:?} failed to load: {error}")]
    Failed { name: String, error: String },
}

fn plugin_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    if file.starts_with('.') || file.starts_with('#') || file.ends_with('~') {
        return None;
    }
    let stem = file.strip_suffix(".wasm")?;
    (!stem.is_empty()).then(|| stem.to_string())
}

impl PluginDir {
    pub fn new(dir: PathBuf, linker: Linker<RunState>, cache: Option<ArtifactCache>) -> Self {
        PluginDir {
            dir,
            linker,
            cache,
            entries: RwLock::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The current version of a plugin.
    pub fn get(&self, name: &str) -> Result<Arc<LoadedPlugin>, Unavailable> {
        let entries = self.entries.read().expect("plugins lock");
        match entries.get(name).map(|e| &e.slot) {
            Some(Slot::Loaded(p)) => Ok(p.clone()),
            Some(Slot::Failed { error, .. }) => Err(Unavailable::Failed {
                name: name.to_string(),
                error: error.clone(),
            }),
            None => Err(Unavailable::Missing(name.to_string())),
        }
    }

    /// Every plugin, sorted by name.
    pub fn list(&self) -> Vec<PluginInfo> {
        let entries = self.entries.read().expect("plugins lock");
        let mut list: Vec<PluginInfo> = entries
            .iter()
            .map(|(name, e)| match &e.slot {
                Slot::Loaded(p) => PluginInfo {
                    name: name.clone(),
                    digest: Some(p.digest.clone()),
                    size: p.size,
                    loaded_at: Some(p.loaded_at),
                    error: None,
                },
                Slot::Failed { error, size } => PluginInfo {
                    name: name.clone(),
                    digest: None,
                    size: *size,
                    loaded_at: None,
                    error: Some(error.clone()),
                },
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// Scan the directory once and apply what changed. Compilation runs on the blocking pool.
    pub async fn scan(self: &Arc<Self>) -> Vec<PluginChange> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.scan_blocking())
            .await
            .unwrap_or_default()
    }

    /// Scan the directory once (blocking; compiles changed plugins).
    pub fn scan_blocking(&self) -> Vec<PluginChange> {
        let mut found: HashMap<String, (PathBuf, Fingerprint)> = HashMap::new();
        match std::fs::read_dir(&self.dir) {
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
                        found.insert(name, (path, fingerprint(&meta)));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot read plugins directory");
                return Vec::new();
            }
        }

        let mut changes = Vec::new();
        let previous: HashMap<String, (Fingerprint, Option<Fingerprint>, bool)> = {
            let entries = self.entries.read().expect("plugins lock");
            entries
                .iter()
                .map(|(n, e)| {
                    (
                        n.clone(),
                        (e.seen, e.pending_failure, matches!(e.slot, Slot::Loaded(_))),
                    )
                })
                .collect()
        };
        for name in previous.keys() {
            if !found.contains_key(name) {
                self.entries.write().expect("plugins lock").remove(name);
                changes.push(PluginChange::Removed { name: name.clone() });
            }
        }
        for (name, (path, fp)) in found {
            let prior = previous.get(&name).copied();
            if let Some((seen, pending, _)) = prior
                && seen == fp
                && pending.is_none()
            {
                continue;
            }
            if let Some(change) = self.load_one(&name, &path, fp, prior) {
                changes.push(change);
            }
        }
        for change in &changes {
            match change {
                PluginChange::Loaded { name, digest } => {
                    tracing::info!(plugin = %name, %digest, "plugin loaded")
                }
                PluginChange::Failed { name, error } => {
                    tracing::error!(plugin = %name, %error, "plugin failed to load")
                }
                PluginChange::Removed { name } => tracing::info!(plugin = %name, "plugin removed"),
            }
        }
        changes
    }

    fn load_one(
        &self,
        name: &str,
        path: &Path,
        fp: Fingerprint,
        prior: Option<(Fingerprint, Option<Fingerprint>, bool)>,
    ) -> Option<PluginChange> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(plugin = name, error = %e, "plugin file not readable yet");
                return None;
            }
        };
        let digest = plugin::digest_of(&bytes);
        if let Ok(current) = self.get(name)
            && current.digest == digest
        {
            let mut entries = self.entries.write().expect("plugins lock");
            if let Some(e) = entries.get_mut(name) {
                e.seen = fp;
                e.pending_failure = None;
            }
            return None;
        }
        match plugin::load(&self.linker, self.cache.as_ref(), name, &bytes) {
            Ok(loaded) => {
                let digest = loaded.digest.clone();
                self.entries.write().expect("plugins lock").insert(
                    name.to_string(),
                    Entry {
                        slot: Slot::Loaded(loaded),
                        seen: fp,
                        pending_failure: None,
                    },
                );
                Some(PluginChange::Loaded {
                    name: name.to_string(),
                    digest,
                })
            }
            Err(error) => {
                let error = error.to_string();
                // A file that changed since the last scan may still be being written: hold the
                // failure back (keeping any good version) until it fails again unchanged.
                let stable_failure = matches!(prior, Some((_, Some(pending), _)) if pending == fp);
                let mut entries = self.entries.write().expect("plugins lock");
                if stable_failure || prior.is_none_or(|(_, _, loaded)| !loaded) && fp_settled(&fp) {
                    entries.insert(
                        name.to_string(),
                        Entry {
                            slot: Slot::Failed {
                                error: error.clone(),
                                size: bytes.len() as u64,
                            },
                            seen: fp,
                            pending_failure: None,
                        },
                    );
                    Some(PluginChange::Failed {
                        name: name.to_string(),
                        error,
                    })
                } else {
                    match entries.get_mut(name) {
                        Some(e) => e.pending_failure = Some(fp),
                        None => {
                            entries.insert(
                                name.to_string(),
                                Entry {
                                    slot: Slot::Failed {
                                        error,
                                        size: bytes.len() as u64,
                                    },
                                    seen: fp,
                                    pending_failure: Some(fp),
                                },
                            );
                        }
                    }
                    None
                }
            }
        }
    }
}

/// A file whose last modification is older than two scan intervals is not being written.
fn fp_settled(fp: &Fingerprint) -> bool {
    fp.modified
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age > 2 * SCAN_INTERVAL)
}

#[cfg(test)]
mod tests {
    use super::plugin_name;
    use std::path::Path;

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
}
