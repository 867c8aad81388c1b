//! The replica's registry follower: keeps the component of every `--plugin-ref NAME=REF`
//! fetched into `DIR/<name>/<manifest digest>.wasm` and tells the [`PluginDir`] which file
//! serves the plugin, where its scan loads it like a file of the plugins directory.
//!
//! A reference pinned by digest is fetched once (a restart finds its file and asks the
//! registry nothing). A reference by tag is re-resolved every interval; a new manifest digest
//! is pulled (by that digest, so that a tag moving meanwhile cannot mix two versions) and
//! hot-swapped. On any error the last good version keeps serving and the plugin shows the
//! error until a later round succeeds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::{PluginDir, ReferencedPlugin, check_header};

use super::client::Registry;
use super::error::RegistryError;
use super::reference::PluginRef;

/// How often a reference by tag is re-resolved by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Follows the plugin references of one replica.
pub struct Follower {
    registry: Registry,
    refs: Vec<PluginRef>,
    dir: PathBuf,
    plugins: Arc<PluginDir>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("refs", &self.refs)
            .field("dir", &self.dir)
            .finish()
    }
}

impl Follower {
    /// Follows `refs` for `plugins`, keeping the fetched files under `dir`. Every plugin is
    /// listed at once, as not fetched yet.
    pub fn new(
        registry: Registry,
        refs: Vec<PluginRef>,
        dir: PathBuf,
        plugins: Arc<PluginDir>,
    ) -> Self {
        for plugin_ref in &refs {
            plugins.set_reference(
                &plugin_ref.name,
                ReferencedPlugin {
                    reference: plugin_ref.reference.to_string(),
                    file: None,
                    error: None,
                },
            );
        }
        Follower {
            registry,
            refs,
            dir,
            plugins,
        }
    }

    /// Brings every reference up to date once.
    pub async fn refresh(&self) {
        for plugin_ref in &self.refs {
            let current = self.plugins.references().remove(&plugin_ref.name);
            let serving = current.as_ref().and_then(|c| c.file.clone());
            let updated = match self.fetch(plugin_ref, serving.as_deref()).await {
                Ok(file) => {
                    if serving.as_ref() != Some(&file) {
                        tracing::info!(plugin = %plugin_ref.name, reference = %plugin_ref.reference, file = %file.display(), "fetched plugin version");
                        remove_others(&file);
                    }
                    ReferencedPlugin {
                        reference: plugin_ref.reference.to_string(),
                        file: Some(file),
                        error: None,
                    }
                }
                Err(e) => {
                    let error = e.to_string();
                    if current.as_ref().and_then(|c| c.error.as_ref()) != Some(&error) {
                        tracing::warn!(plugin = %plugin_ref.name, error = %error, "cannot fetch plugin; the last good version (if any) keeps serving");
                    }
                    ReferencedPlugin {
                        reference: plugin_ref.reference.to_string(),
                        file: serving,
                        error: Some(error),
                    }
                }
            };
            self.plugins.set_reference(&plugin_ref.name, updated);
        }
    }

    /// Refreshes every `interval` until `stop` resolves (the first round is the caller's).
    pub async fn run(self, interval: Duration, stop: impl Future<Output = ()>) {
        if self.refs.iter().all(|r| r.reference.digest().is_some()) && self.all_fetched() {
            // Pinned references never change: nothing left to do.
            return stop.await;
        }
        tokio::pin!(stop);
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticker.tick() => self.refresh().await,
            }
        }
    }

    fn all_fetched(&self) -> bool {
        let references = self.plugins.references();
        self.refs.iter().all(|r| {
            references
                .get(&r.name)
                .is_some_and(|p| p.file.is_some() && p.error.is_none())
        })
    }

    /// The file of the version `plugin_ref` names now, fetched when it is not on disk.
    async fn fetch(
        &self,
        plugin_ref: &PluginRef,
        serving: Option<&Path>,
    ) -> Result<PathBuf, RegistryError> {
        let reference = &plugin_ref.reference;
        let manifest_digest = match reference.digest() {
            Some(digest) => digest.to_string(),
            None => self.registry.manifest_digest(reference).await?,
        };
        let file = self
            .dir
            .join(&plugin_ref.name)
            .join(format!("{}.wasm", manifest_digest.replace(':', "-")));
        if serving == Some(file.as_path()) || file.is_file() {
            return Ok(file);
        }
        let pulled = self
            .registry
            .pull(reference, Some(&manifest_digest))
            .await?;
        check_header(&pulled.component).map_err(|e| RegistryError::Registry {
            reference: reference.to_string(),
            reason: format!("the wasm layer is not a component: {e}"),
        })?;
        write_atomically(&file, &pulled.component).map_err(|e| RegistryError::Registry {
            reference: reference.to_string(),
            reason: format!("cannot write {}: {e}", file.display()),
        })?;
        Ok(file)
    }
}

fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)
}

/// Removes the other versions beside `file` (a run in flight keeps its compiled copy).
fn remove_others(file: &Path) {
    let Some(parent) = file.parent() else { return };
    let Ok(read) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in read.flatten() {
        if entry.path() != file {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
