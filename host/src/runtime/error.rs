//! Errors of the plugin runtime.

use std::path::PathBuf;

/// Why a plugin could not be loaded. The message is shown in the plugins listing and is the
/// error of every run of a job that uses the plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot read plugin file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a WebAssembly file (no \\0asm header)")]
    NotWasm,
    #[error(
        "a core WebAssembly module, not a component: build with `cargo component build` or for the wasm32-wasip2 target"
    )]
    CoreModule,
    #[error("invalid WebAssembly component: {0}")]
    Invalid(String),
    #[error("the component does not implement the wasmcron:plugin/job world: {0}")]
    WrongWorld(String),
    /// The compiler process failed: its message.
    #[error("{0}")]
    Compiler(String),
    #[error("no plugin named {0:?} is loaded")]
    NotLoaded(String),
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot configure the WebAssembly engine: {0}")]
pub struct EngineError(pub String);
