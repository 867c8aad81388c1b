//! How a replica is configured (from the command line).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::registry::{PluginRef, RegistryOptions};
use crate::runtime::Compiler;
use crate::store::ConnectOptions;

/// How a replica is configured.
#[derive(Clone, Debug)]
pub struct ReplicaOptions {
    pub db_url: String,
    /// How to reach the database (pool mode, a direct session URL, limits).
    pub db_connect: ConnectOptions,
    pub plugins_dir: PathBuf,
    /// Where the jobs' secrets are read (`--secrets-dir`); none: a job with secrets fails.
    pub secrets_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub listen: SocketAddr,
    pub instance_id: String,
    pub advertise: String,
    pub heartbeat_interval: Duration,
    pub dead_after: Duration,
    pub grace_period: Duration,
    pub settings_ttl: Duration,
    /// How often the housekeeping leader makes its pass.
    pub housekeeping_interval: Duration,
    pub jobs_file: Option<PathBuf>,
    pub pooling: bool,
    pub api_token: Option<String>,
    /// Where plugins missing from the compiled cache are compiled.
    pub compiler: Compiler,
    /// Plugins fetched from OCI registries (`--plugin-ref NAME=REF`).
    pub plugin_refs: Vec<PluginRef>,
    /// How often a plugin reference by tag is re-resolved.
    pub plugin_ref_interval: Duration,
    /// How registries are reached.
    pub registry: RegistryOptions,
}
