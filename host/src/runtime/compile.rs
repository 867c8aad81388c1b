//! Compiling a plugin that is not in the compiled cache yet.
//!
//! Cranelift needs hundreds of megabytes to compile a 12-40 MB component (a Python or
//! JavaScript plugin, which carries its interpreter), and the allocator keeps most of it after
//! the compilation ends. A replica therefore compiles in a child process
//! ([`Compiler::Subprocess`]): the child reads the component on stdin, compiles it with an
//! engine of the same settings and writes the compiled cache entry; the replica then loads the
//! entry, which costs about the size of the compiled code. The child's memory goes back to the
//! system when it exits, and its work never runs on the replica's threads.
//!
//! The child is `PROGRAM ARGS... --cache-dir DIR -` (for the `wasmcron` binary: `wasmcron
//! plugin compile --cache-dir DIR -`, see [`compile_to_cache`]). On failure it exits non-zero
//! with one line on stderr, which becomes the plugin's error.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::artifact_cache::ArtifactCache;
use super::engine::{EngineOptions, PluginEngine};
use super::error::PluginError;
use super::plugin::{check_header, digest_of};

/// Where plugins missing from the compiled cache are compiled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Compiler {
    /// In this process. Tools and tests use it; a replica only without a cache directory or
    /// when told to (`--compile-in-process`).
    #[default]
    InProcess,
    /// In a child process that writes the compiled cache: `program` with `args`, then
    /// `--cache-dir DIR -`.
    Subprocess { program: PathBuf, args: Vec<String> },
}

/// What [`compile_to_cache`] did.
#[derive(Clone, Debug)]
pub struct CompileReport {
    /// `sha256:<hex>` of the component.
    pub digest: String,
    /// Bytes of the compiled cache entry.
    pub artifact_bytes: u64,
    pub elapsed: Duration,
}

/// Compiles `bytes` (a component) into `cache`: the work of the child process, also run by
/// `wasmcron plugin compile` to fill a cache ahead of time.
pub fn compile_to_cache(bytes: &[u8], cache_dir: &Path) -> Result<CompileReport, PluginError> {
    check_header(bytes)?;
    let started = Instant::now();
    // Compiled code does not depend on the instance allocator: an on-demand engine writes
    // entries that a replica's pooling engine loads.
    let engine = PluginEngine::new(&EngineOptions {
        pooling: false,
        ..EngineOptions::default()
    })
    .map_err(|e| PluginError::Invalid(e.to_string()))?;
    let cache = ArtifactCache::open(cache_dir, engine.compatibility_key()).map_err(|e| {
        PluginError::Compiler(format!(
            "cannot use compiled-cache directory {}: {e}",
            cache_dir.display()
        ))
    })?;
    let digest = digest_of(bytes);
    let component = in_process(engine.engine(), bytes)?;
    let artifact_bytes = cache
        .store(&digest, &component)
        .map_err(|e| PluginError::Compiler(format!("cannot write the compiled cache: {e:#}")))?;
    Ok(CompileReport {
        digest,
        artifact_bytes,
        elapsed: started.elapsed(),
    })
}

/// Compiles in this process.
pub(super) fn in_process(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginError> {
    Component::new(engine, bytes).map_err(|e| PluginError::Invalid(one_line(&format!("{e:#}"))))
}

/// Compiles `bytes` (content `digest`) with `compiler`, storing the result in `cache`.
pub(super) fn compile(
    engine: &Engine,
    cache: Option<&ArtifactCache>,
    compiler: &Compiler,
    name: &str,
    digest: &str,
    bytes: &[u8],
) -> Result<Component, PluginError> {
    let (Some(cache), Compiler::Subprocess { program, args }) = (cache, compiler) else {
        let component = in_process(engine, bytes)?;
        if let Some(cache) = cache
            && let Err(e) = cache.store(digest, &component)
        {
            tracing::warn!(plugin = name, error = %e, "cannot write compiled-cache entry");
        }
        return Ok(component);
    };
    let started = Instant::now();
    match run_child(program, args, cache.dir(), bytes) {
        Ok(report) => {
            if let Some(component) = cache.load(engine, digest) {
                tracing::info!(plugin = name, %digest, elapsed = ?started.elapsed(), "{report}");
                return Ok(component);
            }
            // The child wrote an entry this engine cannot use: the binary on disk is not the
            // one running (replaced by an upgrade). Compile here rather than fail the plugin.
            tracing::warn!(
                plugin = name,
                program = %program.display(),
                "the compiler process wrote no entry this replica can load; compiling in process"
            );
        }
        Err(ChildError::Failed(message)) => return Err(PluginError::Compiler(message)),
        Err(ChildError::Unavailable(e)) => tracing::warn!(
            plugin = name,
            program = %program.display(),
            error = %e,
            "cannot run the compiler process; compiling in process"
        ),
    }
    let component = in_process(engine, bytes)?;
    if let Err(e) = cache.store(digest, &component) {
        tracing::warn!(plugin = name, error = %e, "cannot write compiled-cache entry");
    }
    Ok(component)
}

enum ChildError {
    /// The child ran and failed: its message.
    Failed(String),
    /// The child could not be started or talked to.
    Unavailable(std::io::Error),
}

/// Runs the compiler process with `bytes` on its stdin; its report line on success.
fn run_child(
    program: &Path,
    args: &[String],
    cache_dir: &Path,
    bytes: &[u8],
) -> Result<String, ChildError> {
    let mut child = Command::new(program)
        .args(args)
        .arg("--cache-dir")
        .arg(cache_dir)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ChildError::Unavailable)?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let written = stdin.write_all(bytes);
    drop(stdin);
    let output = child.wait_with_output().map_err(ChildError::Unavailable)?;
    if output.status.success() {
        return Ok(last_line(&output.stdout).unwrap_or_else(|| "compiled".to_string()));
    }
    if let Some(message) = last_line(&output.stderr) {
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        return Err(ChildError::Failed(message.to_string()));
    }
    if let Err(e) = written {
        return Err(ChildError::Unavailable(e));
    }
    Err(ChildError::Failed(killed_message(&output.status)))
}

#[cfg(unix)]
fn killed_message(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(9) => "the compiler process was killed (signal 9): out of memory? Compiling a \
                    large component needs a few hundred MB beside the replica"
            .to_string(),
        Some(signal) => format!("the compiler process was killed by signal {signal}"),
        None => format!("the compiler process failed ({status})"),
    }
}

#[cfg(not(unix))]
fn killed_message(status: &std::process::ExitStatus) -> String {
    format!("the compiler process failed ({status})")
}

fn last_line(output: &[u8]) -> Option<String> {
    String::from_utf8_lossy(output)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
