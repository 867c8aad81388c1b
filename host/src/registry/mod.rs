//! Plugins distributed through OCI registries, as wasmCloud and `wkg` distribute components.
//!
//! - [`reference`]: `REGISTRY/REPOSITORY:TAG` / `@sha256:…` and `NAME=REF` pairs;
//! - [`artifact`]: the wasm artifact layout (one `application/wasm` layer, a wasm config);
//! - [`auth`]: credentials from a docker `config.json`;
//! - [`client`]: push, pull and tag resolution over one configured HTTP client;
//! - [`gate`]: the proxy every connection of that client goes through — the host's egress
//!   guard (registries named in references, public addresses besides);
//! - [`follower`]: the replica's task that keeps each `--plugin-ref` fetched and current;
//! - [`error`]: one-line errors.

mod artifact;
mod auth;
mod client;
mod error;
mod follower;
mod gate;
mod reference;

pub use artifact::{MAX_COMPONENT_BYTES, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
pub use auth::Credentials;
pub use client::{Pulled, Pushed, Registry, RegistryOptions};
pub use error::RegistryError;
pub use follower::{DEFAULT_INTERVAL, Follower};
pub use reference::{PluginRef, PluginReference, parse_plugin_refs};
