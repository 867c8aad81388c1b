//! The plugin runtime: every tick goes through here.
//!
//! One [`PluginEngine`] per process; plugins are compiled once (in a child process, see
//! [`Compiler`]) into the on-disk [`ArtifactCache`], loaded from it and pre-instantiated; each
//! run gets a fresh `Store` with WASI that grants nothing, outbound HTTP only to the job's
//! allowed hosts (through the [`egress`] guard, which keeps wildcards off internal addresses),
//! a memory limit and a timeout.
//!
//! - [`plugin_dir`](PluginDir): the plugins served (directory files and registry references,
//!   whose files `sources` lists) and their hot reload;
//! - `compile`: compiling what the cache lacks, in a child process or in this one;
//! - `run`, `run_state`, `http_policy`, `run_log`: the sandbox of one run;
//! - [`secrets`](SecretsDir): secret values read from files for `config-get`, and their
//!   redaction from everything a run produces;
//! - [`egress`]: the address rules of every outbound connection.

mod artifact_cache;
mod bindings;
mod compile;
pub mod egress;
mod engine;
mod error;
mod http_policy;
mod http_send;
pub(crate) use http_send::TLS as TLS_CLIENT;
mod job_host;
mod output_capture;
mod plugin;
mod plugin_dir;
mod run;
mod run_log;
mod run_state;
mod secrets;
mod sources;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

pub use artifact_cache::ArtifactCache;
pub use bindings::{Level, Tick};
pub use compile::{CompileReport, Compiler, compile_to_cache};
pub use egress::{HostPattern, HostPatternError, parse_allowed_hosts};
pub use engine::{Allocator, EngineOptions, MAX_MEMORY_BYTES, PluginEngine};
pub use error::{EngineError, PluginError};
pub use job_host::{HostFailure, JobHost, MemoryJobHost};
pub use plugin::{LoadedPlugin, check_header, describe, digest_of, link as link_checked};
pub use plugin_dir::{PluginChange, PluginDir, PluginInfo, SCAN_INTERVAL, Unavailable};
pub use run::{MAX_RESULT_BYTES, RunOutcome, RunRequest, RunStatus};
pub use run_log::LogLimits;
pub use run_state::{MEMORY_LIMIT_EXCEEDED, RunState};
pub use secrets::{
    MAX_SECRET_NAME, REDACTED, Redactor, SecretError, SecretsDir, check_secret_name,
};
pub use sources::ReferencedPlugin;

/// Default memory limit of a run.
pub const DEFAULT_MEMORY_LIMIT: u64 = 64 << 20;

/// The linker every plugin is checked and instantiated against: WASI preview 2 (granting
/// nothing; see [`RunState`]), `wasi:http` (policed by the job's allowed hosts) and the
/// `wasmcron:plugin/host` interface.
pub fn linker(engine: &PluginEngine) -> Result<Linker<RunState>, EngineError> {
    let mut linker = Linker::new(engine.engine());
    let err = |e: wasmtime::Error| EngineError(format!("{e:#}"));
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(err)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(err)?;
    bindings::Job::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(err)?;
    Ok(linker)
}

/// Engine, linker, plugins directory and secrets directory together.
#[derive(Clone, Debug)]
pub struct Runtime {
    pub engine: PluginEngine,
    pub plugins: Arc<PluginDir>,
    /// Where runs read their jobs' secrets (none by default: a job with secrets fails).
    pub secrets: SecretsDir,
}

impl Runtime {
    /// Build the engine and load nothing yet; call [`PluginDir::scan`] (or [`Runtime::watch`]).
    /// Plugins missing from the cache are compiled in this process.
    pub fn new(
        options: &EngineOptions,
        plugins_dir: PathBuf,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        Self::with_compiler(options, plugins_dir, cache_dir, Compiler::InProcess)
    }

    /// As [`Runtime::new`], compiling plugins missing from the cache with `compiler`.
    pub fn with_compiler(
        options: &EngineOptions,
        plugins_dir: PathBuf,
        cache_dir: Option<&Path>,
        compiler: Compiler,
    ) -> anyhow::Result<Self> {
        let engine = PluginEngine::new(options)?;
        let linker = linker(&engine)?;
        let cache = match cache_dir {
            Some(dir) => Some(
                ArtifactCache::open(dir, engine.compatibility_key()).map_err(|e| {
                    anyhow::anyhow!("cannot use compiled-cache directory {}: {e}", dir.display())
                })?,
            ),
            None => None,
        };
        tracing::info!(allocator = %engine.allocator(), plugins = %plugins_dir.display(), "plugin runtime ready");
        Ok(Runtime {
            engine,
            plugins: Arc::new(PluginDir::new(plugins_dir, linker, cache, compiler)),
            secrets: SecretsDir::default(),
        })
    }

    /// Runs read their jobs' secrets from `secrets`.
    pub fn with_secrets(mut self, secrets: SecretsDir) -> Self {
        self.secrets = secrets;
        self
    }

    /// Run a tick on the current version of `plugin`.
    pub async fn run(&self, plugin: &str, request: RunRequest) -> (Option<String>, RunOutcome) {
        match self.plugins.get(plugin) {
            Ok(loaded) => {
                let digest = loaded.digest.clone();
                (Some(digest), loaded.run(&self.engine, request).await)
            }
            Err(e) => (None, RunOutcome::failed(e.to_string())),
        }
    }

    /// Scan the plugins directory now and then every [`SCAN_INTERVAL`] until `stop` resolves;
    /// every change is passed to `on_change`.
    pub async fn watch(
        &self,
        stop: impl Future<Output = ()>,
        mut on_change: impl FnMut(PluginChange) + Send,
    ) {
        tokio::pin!(stop);
        let mut interval = tokio::time::interval(SCAN_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = interval.tick() => {
                    for change in self.plugins.scan().await {
                        on_change(change);
                    }
                }
            }
        }
    }
}
