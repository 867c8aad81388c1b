//! The plugins a replica serves: every `*.wasm` component of the plugins directory, named by
//! its file stem, and the plugins fetched from OCI registries ([`ReferencedPlugin`]).
//!
//! The directory is scanned every [`SCAN_INTERVAL`], which handles every way files arrive:
//! atomic rename, in-place copy (a partially written file is retried until it is stable
//! instead of replacing a good version), editors' temporary and hidden files (ignored), and
//! Kubernetes ConfigMap/Secret volumes whose files are symlinks into a `..data` directory that
//! is swapped atomically (symlinks are followed; hidden entries are skipped). A fetched
//! plugin's new version is a new file, picked up by the same scan. A run in flight keeps the
//! [`LoadedPlugin`] it started with.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use wasmtime::component::Linker;

use super::artifact_cache::ArtifactCache;
use super::compile::Compiler;
use super::plugin::{self, LoadedPlugin};
use super::run_state::RunState;
use super::sources::{self, Fingerprint, ReferencedPlugin};

/// How often the directory is scanned.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(200);

/// What a listing shows of one plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    /// The content digest of the version served; `None` when none is.
    pub digest: Option<String>,
    pub size: u64,
    pub loaded_at: Option<SystemTime>,
    /// Why it cannot be served, or (with a digest) why a newer version could not be fetched.
    pub error: Option<String>,
    /// The OCI reference a fetched plugin follows; `None` for a file of the directory.
    pub reference: Option<String>,
}

/// A change the last scan made, for logs and events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginChange {
    Loaded { name: String, digest: String },
    Failed { name: String, error: String },
    Removed { name: String },
}

enum Slot {
    Loaded(Arc<LoadedPlugin>),
    Failed { error: String, size: u64 },
}

struct Entry {
    slot: Slot,
    /// The file version last looked at; `None` for a plugin without a file.
    seen: Option<Fingerprint>,
    /// A failed load of a changed file that is not yet reported (the file may still be
    /// being written): the fingerprint it failed with.
    pending_failure: Option<Fingerprint>,
}

/// The loaded plugins of one directory and of the registry references.
pub struct PluginDir {
    dir: PathBuf,
    linker: Linker<RunState>,
    cache: Option<ArtifactCache>,
    compiler: Compiler,
    references: RwLock<BTreeMap<String, ReferencedPlugin>>,
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

impl PluginDir {
    /// The plugins of `dir`; those missing from `cache` are compiled with `compiler`.
    pub fn new(
        dir: PathBuf,
        linker: Linker<RunState>,
        cache: Option<ArtifactCache>,
        compiler: Compiler,
    ) -> Self {
        PluginDir {
            dir,
            linker,
            cache,
            compiler,
            references: RwLock::default(),
            entries: RwLock::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The compiled-cache directory, if any.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_ref().map(ArtifactCache::dir)
    }

    /// Serve plugin `name` from a registry reference (or update it); the next scan loads its
    /// file.
    pub fn set_reference(&self, name: &str, plugin: ReferencedPlugin) {
        self.references
            .write()
            .expect("references lock")
            .insert(name.to_string(), plugin);
    }

    /// The plugins that follow a registry reference, by name.
    pub fn references(&self) -> BTreeMap<String, ReferencedPlugin> {
        self.references.read().expect("references lock").clone()
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

    /// Every plugin, sorted by name. A fetched plugin that serves a version while its
    /// registry fails shows both its digest and the registry's error.
    pub fn list(&self) -> Vec<PluginInfo> {
        let references = self.references();
        let entries = self.entries.read().expect("plugins lock");
        let mut list: Vec<PluginInfo> = entries
            .iter()
            .map(|(name, e)| {
                let referenced = references.get(name);
                let reference = referenced.map(|r| r.reference.clone());
                match &e.slot {
                    Slot::Loaded(p) => PluginInfo {
                        name: name.clone(),
                        digest: Some(p.digest.clone()),
                        size: p.size,
                        loaded_at: Some(p.loaded_at),
                        error: referenced.and_then(|r| r.error.clone()),
                        reference,
                    },
                    Slot::Failed { error, size } => PluginInfo {
                        name: name.clone(),
                        digest: None,
                        size: *size,
                        loaded_at: None,
                        error: Some(error.clone()),
                        reference,
                    },
                }
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

    /// Scan the directory and the references once (blocking; compiles changed plugins).
    pub fn scan_blocking(&self) -> Vec<PluginChange> {
        let Some(found) = sources::collect(&self.dir, &self.references()) else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        let previous: HashMap<String, Prior> = {
            let entries = self.entries.read().expect("plugins lock");
            entries
                .iter()
                .map(|(n, e)| {
                    let prior = Prior {
                        seen: e.seen,
                        pending: e.pending_failure,
                        loaded: matches!(e.slot, Slot::Loaded(_)),
                        error: match &e.slot {
                            Slot::Failed { error, .. } => Some(error.clone()),
                            Slot::Loaded(_) => None,
                        },
                    };
                    (n.clone(), prior)
                })
                .collect()
        };
        for name in previous.keys() {
            if !found.files.contains_key(name) && !found.unavailable.contains_key(name) {
                self.entries.write().expect("plugins lock").remove(name);
                changes.push(PluginChange::Removed { name: name.clone() });
            }
        }
        for (name, error) in found.unavailable {
            if previous.get(&name).and_then(|p| p.error.as_ref()) == Some(&error) {
                continue;
            }
            self.entries.write().expect("plugins lock").insert(
                name.clone(),
                Entry {
                    slot: Slot::Failed {
                        error: error.clone(),
                        size: 0,
                    },
                    seen: None,
                    pending_failure: None,
                },
            );
            changes.push(PluginChange::Failed { name, error });
        }
        for (name, (path, fp)) in found.files {
            let prior = previous.get(&name);
            if let Some(prior) = prior
                && prior.seen == Some(fp)
                && prior.pending.is_none()
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
        prior: Option<&Prior>,
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
                e.seen = Some(fp);
                e.pending_failure = None;
            }
            return None;
        }
        match plugin::load(
            &self.linker,
            self.cache.as_ref(),
            &self.compiler,
            name,
            &bytes,
        ) {
            Ok(loaded) => {
                let digest = loaded.digest.clone();
                self.entries.write().expect("plugins lock").insert(
                    name.to_string(),
                    Entry {
                        slot: Slot::Loaded(loaded),
                        seen: Some(fp),
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
                let stable_failure = prior.is_some_and(|p| p.pending == Some(fp));
                let mut entries = self.entries.write().expect("plugins lock");
                if stable_failure
                    || prior.is_none_or(|p| !p.loaded) && fp.older_than(2 * SCAN_INTERVAL)
                {
                    entries.insert(
                        name.to_string(),
                        Entry {
                            slot: Slot::Failed {
                                error: error.clone(),
                                size: bytes.len() as u64,
                            },
                            seen: Some(fp),
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
                                    seen: Some(fp),
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

/// An entry as the scan found it before looking at the files.
struct Prior {
    seen: Option<Fingerprint>,
    pending: Option<Fingerprint>,
    loaded: bool,
    error: Option<String>,
}
