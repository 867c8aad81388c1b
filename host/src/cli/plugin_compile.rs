//! `wasmcron plugin compile FILE`: compile a component into the compiled cache.
//!
//! A replica runs this command as a child process for every plugin missing from its cache
//! (with the component on stdin, `-`), so that the compiler's memory is returned when it
//! exits; see `runtime::Compiler`. Run by hand (in an image build, an init container), it
//! fills a cache ahead of time so that replicas start without compiling.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::runtime;

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The plugin file (a WebAssembly component), or `-` to read it from stdin.
    file: PathBuf,
    /// The compiled-cache directory to write into (a replica's --cache-dir).
    #[arg(long, env = "WASMCRON_CACHE_DIR", default_value = ".wasmcron-cache")]
    cache_dir: PathBuf,
}

pub fn run(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let from_stdin = args.file.as_os_str() == "-";
    let bytes = if from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(&args.file)
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    match runtime::compile_to_cache(&bytes, &args.cache_dir) {
        Ok(report) => {
            let name = if from_stdin {
                report.digest.clone()
            } else {
                format!("{} ({})", args.file.display(), report.digest)
            };
            println!(
                "compiled {name}: {:.1} MB in {:.2} s into {} ({:.1} MB); peak memory {}",
                bytes.len() as f64 / 1e6,
                report.elapsed.as_secs_f64(),
                args.cache_dir.display(),
                report.artifact_bytes as f64 / 1e6,
                peak_memory().unwrap_or_else(|| "unknown".to_string()),
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // One line: a replica shows it as the plugin's error.
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// This process's peak resident memory (`VmHWM`), e.g. "342 MB".
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(format!("{} MB", kib * 1024 / 1_000_000))
}
