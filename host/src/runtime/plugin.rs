//! Loading a plugin: file → checked component → pre-instantiated `job` world.

use std::sync::Arc;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};

use super::artifact_cache::ArtifactCache;
use super::bindings::JobPre;
use super::compile::{self, Compiler};
use super::error::PluginError;
use super::run_state::RunState;

/// A plugin ready to run: compiled, linked and pre-instantiated.
pub struct LoadedPlugin {
    pub name: String,
    /// `sha256:<hex>` of the file's content.
    pub digest: String,
    pub size: u64,
    pub loaded_at: SystemTime,
    pub(super) pre: JobPre<RunState>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .field("size", &self.size)
            .finish()
    }
}

/// The content digest of a plugin file, as recorded with every run.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Check the binary header: a component, not a core module or something else.
pub fn check_header(bytes: &[u8]) -> Result<(), PluginError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(PluginError::NotWasm);
    }
    match &bytes[4..8] {
        [0x01, 0x00, 0x00, 0x00] => Err(PluginError::CoreModule),
        [_, _, 0x01, 0x00] => Ok(()),
        other => Err(PluginError::Invalid(format!(
            "unknown WebAssembly binary version {other:02x?}"
        ))),
    }
}

/// Load a plugin from the compiled cache, or compile it with `compiler` (which fills the
/// cache), and link it.
pub fn load(
    linker: &Linker<RunState>,
    cache: Option<&ArtifactCache>,
    compiler: &Compiler,
    name: &str,
    bytes: &[u8],
) -> Result<Arc<LoadedPlugin>, PluginError> {
    check_header(bytes)?;
    let digest = digest_of(bytes);
    let engine = linker.engine();
    let component = match cache.and_then(|c| c.load(engine, &digest)) {
        Some(component) => component,
        None => compile::compile(engine, cache, compiler, name, &digest, bytes)?,
    };
    let pre = link(linker, &component)?;
    Ok(Arc::new(LoadedPlugin {
        name: name.to_string(),
        digest,
        size: bytes.len() as u64,
        loaded_at: SystemTime::now(),
        pre,
    }))
}

/// Link a component against the host's imports and check that it exports the `job` world.
pub fn link(
    linker: &Linker<RunState>,
    component: &Component,
) -> Result<JobPre<RunState>, PluginError> {
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| PluginError::WrongWorld(format!("{e:#}")))?;
    JobPre::new(pre).map_err(|e| PluginError::WrongWorld(format!("{e:#}")))
}

/// Names of a component's imports and exports, for `wasmcron plugin check`.
pub fn describe(component: &Component) -> (Vec<String>, Vec<String>) {
    let engine = component.engine();
    let ty = component.component_type();
    let imports = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let exports = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    (imports, exports)
}
