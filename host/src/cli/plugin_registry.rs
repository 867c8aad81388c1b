//! `wasmcron plugin push FILE REF` and `wasmcron plugin pull REF -o FILE`: plugins as OCI
//! artifacts (see `registry`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::registry::{Credentials, PluginReference, Registry, RegistryError, RegistryOptions};
use crate::runtime;

/// How to reach registries; shared by `push`, `pull` and `serve`.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// Registry credentials: a docker `config.json` (the `.dockerconfigjson` of a Kubernetes
    /// image pull secret).
    #[arg(long, env = "WASMCRON_REGISTRY_AUTH")]
    pub registry_auth: Option<PathBuf>,
    /// A registry (`HOST:PORT`) reached over plain HTTP instead of HTTPS (repeatable).
    #[arg(
        long = "insecure-registry",
        env = "WASMCRON_INSECURE_REGISTRIES",
        value_delimiter = ','
    )]
    pub insecure_registries: Vec<String>,
}

impl RegistryArgs {
    /// The registry client these arguments describe.
    pub fn registry(&self) -> Result<Registry, RegistryError> {
        let credentials = match &self.registry_auth {
            Some(path) => Credentials::from_file(path)?,
            None => Credentials::none(),
        };
        Registry::new(
            RegistryOptions {
                credentials,
                insecure: self.insecure_registries.clone(),
            },
            Arc::default(),
        )
    }
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The plugin file (a WebAssembly component of the wasmcron job world).
    file: PathBuf,
    /// Where to push it: `REGISTRY/REPOSITORY:TAG`.
    reference: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// What to pull: `REGISTRY/REPOSITORY:TAG` or `REGISTRY/REPOSITORY@sha256:DIGEST`.
    reference: String,
    /// The file to write the component to.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

fn block_on<T>(future: impl Future<Output = T>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

/// Prints `error: MESSAGE` (one line) and fails.
fn fail(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::FAILURE)
}

pub fn push(args: PushArgs) -> anyhow::Result<ExitCode> {
    let reference: PluginReference = match args.reference.parse() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    // Only a component of the job world is pushed: a mistake shows here, not in a replica.
    let (imports, exports) = match super::plugin_check::check(&args.file) {
        Ok(described) => described,
        Err(e) => return fail(format_args!("{}: {e}", args.file.display())),
    };
    let component = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let content_digest = runtime::digest_of(&component);
    let registry = match args.registry.registry() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let pushed = block_on(registry.push(&reference, component, &content_digest, imports, exports))?;
    match pushed {
        Ok(pushed) => {
            let repository = reference
                .as_str()
                .rsplit_once(':')
                .map_or(reference.as_str(), |(repository, _)| repository);
            println!("pushed {reference}");
            println!("manifest digest: {}", pushed.manifest_digest);
            println!("content digest: {}", pushed.content_digest);
            println!("pinned reference: {repository}@{}", pushed.manifest_digest);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => fail(e),
    }
}

pub fn pull(args: PullArgs) -> anyhow::Result<ExitCode> {
    let reference: PluginReference = match args.reference.parse() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let registry = match args.registry.registry() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let pulled = match block_on(registry.pull(&reference, None))? {
        Ok(pulled) => pulled,
        Err(e) => return fail(e),
    };
    if let Err(e) = runtime::check_header(&pulled.component) {
        return fail(format_args!(
            "{reference}: the wasm layer is not a component: {e}"
        ));
    }
    let tmp = args.output.with_extension("tmp-pull");
    std::fs::write(&tmp, &pulled.component)
        .and_then(|()| std::fs::rename(&tmp, &args.output))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!(
        "pulled {reference} into {} ({} bytes)",
        args.output.display(),
        pulled.component.len()
    );
    println!("manifest digest: {}", pulled.manifest_digest);
    println!("content digest: {}", pulled.content_digest);
    Ok(ExitCode::SUCCESS)
}
