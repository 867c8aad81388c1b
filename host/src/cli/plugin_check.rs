//! `wasmcron plugin check FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::runtime::{self, EngineOptions, PluginEngine, PluginError};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The plugin file (a WebAssembly component).
    file: PathBuf,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    match check(&args.file) {
        Ok((imports, exports)) => {
            println!(
                "ok: {} implements wasmcron:plugin/job@0.1.0",
                args.file.display()
            );
            println!("imports:");
            for name in imports {
                println!("  {name}");
            }
            println!("exports:");
            for name in exports {
                println!("  {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

pub(super) fn check(file: &std::path::Path) -> Result<(Vec<String>, Vec<String>), PluginError> {
    let bytes = std::fs::read(file).map_err(|source| PluginError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    runtime::check_header(&bytes)?;
    let engine = PluginEngine::new(&EngineOptions {
        pooling: false,
        ..EngineOptions::default()
    })
    .map_err(|e| PluginError::Invalid(e.to_string()))?;
    let linker = runtime::linker(&engine).map_err(|e| PluginError::Invalid(e.to_string()))?;
    let component = wasmtime::component::Component::new(engine.engine(), &bytes)
        .map_err(|e| PluginError::Invalid(one_line(&format!("{e:#}"))))?;
    runtime::link_checked(&linker, &component)?;
    Ok(runtime::describe(&component))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
