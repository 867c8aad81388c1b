//! Compiled-artifact cache on disk: `Component::serialize` output keyed by the plugin's content
//! digest and the engine's compatibility key. Each entry has its SHA-256 beside it (`.sha256`),
//! checked before use, so a corrupt or truncated entry is a miss (and is rewritten), never a
//! crash.
//!
//! Entries are mapped, not read: the compiled code of a Python or JavaScript plugin (30-40 MB,
//! most of it an interpreter a job never fully runs) then costs only the pages that run, and
//! those are file pages the system can drop and reload. Entries are only ever replaced by
//! rename, so a mapped file never changes underneath. Files in the watched plugins directory
//! are never mapped.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Directory of compiled artifacts.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    compat: String,
}

impl ArtifactCache {
    /// Use (and create) `dir` for artifacts of an engine with compatibility key `compat`.
    pub fn open(dir: &Path, compat: String) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(ArtifactCache {
            dir: dir.to_path_buf(),
            compat,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.compat))
    }

    fn checksum_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".sha256");
        PathBuf::from(name)
    }

    /// The cached compilation of the plugin with content `digest`, if present and intact.
    pub fn load(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.path(digest);
        let expected = std::fs::read_to_string(Self::checksum_path(&path)).ok()?;
        // Hashed through a small buffer: checking costs no resident memory.
        let actual = std::fs::File::open(&path).and_then(|mut file| {
            let mut hasher = Sha256::new();
            std::io::copy(&mut file, &mut hasher)?;
            Ok(hex::encode(hasher.finalize()))
        });
        if actual.ok().as_deref() != Some(expected.trim()) {
            tracing::warn!(path = %path.display(), "corrupt compiled-cache entry ignored");
            return None;
        }
        match deserialize_file(engine, &path) {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "unusable compiled-cache entry ignored");
                None
            }
        }
    }

    /// Store the compilation of the plugin with content `digest` (atomically: temp + rename);
    /// returns the entry's size in bytes.
    pub fn store(&self, digest: &str, component: &Component) -> anyhow::Result<u64> {
        let body = component
            .serialize()
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let path = self.path(digest);
        let checksum = Self::checksum_path(&path);
        let suffix = format!("tmp{}", std::process::id());
        let (tmp, tmp_checksum) = (
            path.with_extension(&suffix),
            checksum.with_extension(&suffix),
        );
        std::fs::write(&tmp, &body)?;
        std::fs::write(&tmp_checksum, hex::encode(Sha256::digest(&body)))?;
        // The entry first, its checksum second: until both are in place it is a miss.
        std::fs::rename(&tmp, &path)?;
        std::fs::rename(&tmp_checksum, &checksum)?;
        Ok(body.len() as u64)
    }
}

#[allow(unsafe_code)]
fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was produced by `Component::serialize` of this cache (its SHA-256
    // written beside it matched just now), and wasmtime checks that it was compiled by a
    // compatible engine before using it. The cache replaces entries only by renaming a new
    // file over them, so the mapped file is never modified while mapped.
    unsafe { Component::deserialize_file(engine, path) }
}
