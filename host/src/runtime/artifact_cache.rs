//! Compiled-artifact cache on disk: `Component::serialize` output keyed by the plugin's content
//! digest and the engine's compatibility key. Each entry carries a SHA-256 of its body, checked
//! before use, so a corrupt or truncated entry is a miss (and is rewritten), never a crash.
//! Entries are read into memory; files in the watched plugins directory are never mapped.

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

    /// The cached compilation of the plugin with content `digest`, if present and intact.
    pub fn load(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.path(digest);
        let bytes = std::fs::read(&path).ok()?;
        if bytes.len() < 32 || Sha256::digest(&bytes[32..])[..] != bytes[..32] {
            tracing::warn!(path = %path.display(), "corrupt compiled-cache entry ignored");
            return None;
        }
        match deserialize(engine, &bytes[32..]) {
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
        let mut bytes = Sha256::digest(&body).to_vec();
        bytes.extend_from_slice(&body);
        let path = self.path(digest);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(bytes.len() as u64)
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, body: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `body` was produced by `Component::serialize` of this cache (its SHA-256 written
    // beside it matched just now), and wasmtime checks that it was compiled by a compatible
    // engine before using it. The bytes are copied into memory, not mapped from a file that
    // could change underneath.
    unsafe { Component::deserialize(engine, body) }
}
