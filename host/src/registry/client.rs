//! The registry client: push a component, pull one, resolve a tag to a manifest digest.
//!
//! Every request to a registry goes through the one HTTP client built in [`Registry::new`]
//! ([`build_client`]): HTTPS, except for the registries named as insecure; credentials from
//! [`Credentials`]; bounded connect and read times; every connection through the egress
//! [`Gate`] (the registries named in references, public addresses for anything else).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::runtime::egress::OwnAddresses;

use super::artifact;
use super::auth::Credentials;
use super::error::RegistryError;
use super::gate::{Failure, Gate};
use super::reference::PluginReference;

/// How long connecting to a registry may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a registry may leave a response waiting between bytes.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach registries.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// Credentials by registry.
    pub credentials: Credentials,
    /// Registries (`host[:port]`) reached over plain HTTP; every other over HTTPS.
    pub insecure: Vec<String>,
}

/// A component pushed: the digests a deployment can pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// `sha256:…` of the manifest: `REPOSITORY@<manifest_digest>` pins this version.
    pub manifest_digest: String,
    /// `sha256:…` of the component: what runs record as their plugin digest.
    pub content_digest: String,
}

/// A component pulled.
#[derive(Clone, Debug)]
pub struct Pulled {
    pub component: Vec<u8>,
    pub manifest_digest: String,
    pub content_digest: String,
}

/// A client for OCI registries.
pub struct Registry {
    client: Client,
    options: RegistryOptions,
    gate: Gate,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("options", &self.options)
            .finish()
    }
}

/// Builds the HTTP client of every registry request. This is the one place where the
/// connection to a registry is configured.
fn build_client(options: &RegistryOptions, gate: &Gate) -> Client {
    // reqwest is built without a TLS provider of its own: use ring, as the rest of the host
    // does. Installing fails only when a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let protocol = if options.insecure.is_empty() {
        ClientProtocol::Https
    } else {
        ClientProtocol::HttpsExcept(options.insecure.clone())
    };
    Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: concat!("wasmcron/", env!("CARGO_PKG_VERSION")),
        // Every connection, plain or TLS, through the gate; none bypasses it.
        http_proxy: Some(gate.url().to_string()),
        https_proxy: Some(gate.url().to_string()),
        no_proxy: None,
        ..ClientConfig::default()
    })
}

impl Registry {
    /// A client for registries; `own`: the replica's API addresses, which no connection
    /// reaches. Binds the egress gate's port (it serves from the first operation).
    pub fn new(options: RegistryOptions, own: Arc<OwnAddresses>) -> Result<Self, RegistryError> {
        let gate = Gate::start(own).map_err(|e| RegistryError::Start(e.to_string()))?;
        Ok(Registry {
            client: build_client(&options, &gate),
            options,
            gate,
        })
    }

    /// The credentials for `reference`'s registry, which becomes a named target of the gate:
    /// every operation on a reference passes here first.
    fn auth(&self, reference: &PluginReference) -> RegistryAuth {
        self.gate.allow(reference.registry());
        self.options.credentials.for_registry(reference.registry())
    }

    /// How an error of the OCI client on `reference` reads: why the gate failed a connection
    /// when it did (the client only sees a `403` or `502`), else what the registry said.
    fn error(
        &self,
        reference: &PluginReference,
    ) -> impl Fn(oci_client::errors::OciDistributionError) -> RegistryError + '_ {
        let plain_http = self
            .options
            .insecure
            .iter()
            .any(|r| r == reference.registry());
        let text = reference.as_str().to_string();
        move |e| match self.gate.take_failure() {
            Some(Failure::Denied(reason)) => RegistryError::Denied {
                reference: text.clone(),
                reason,
            },
            Some(Failure::Unreachable(reason)) => RegistryError::Unreachable {
                reference: text.clone(),
                reason,
                hint: String::new(),
            },
            None => RegistryError::from_oci(&text, plain_http, e),
        }
    }

    /// Pushes `component` (content `content_digest`) to the tag of `reference`, as a wasm
    /// artifact whose config lists `imports` and `exports`.
    pub async fn push(
        &self,
        reference: &PluginReference,
        component: Vec<u8>,
        content_digest: &str,
        imports: Vec<String>,
        exports: Vec<String>,
    ) -> Result<Pushed, RegistryError> {
        if reference.digest().is_some() {
            return Err(RegistryError::InvalidReference {
                text: reference.as_str().to_string(),
                reason: "push to a tag (REPOSITORY:TAG), not to a digest".to_string(),
            });
        }
        let (layer, config) =
            artifact::layer_and_config(component, content_digest, imports, exports);
        let auth = self.auth(reference);
        self.client
            .push(reference.oci(), &[layer], config, &auth, None)
            .await
            .map_err(self.error(reference))?;
        let manifest_digest = self.manifest_digest(reference).await?;
        Ok(Pushed {
            manifest_digest,
            content_digest: content_digest.to_string(),
        })
    }

    /// The digest of the manifest `reference` names now (for a tag: what it points at).
    pub async fn manifest_digest(
        &self,
        reference: &PluginReference,
    ) -> Result<String, RegistryError> {
        self.client
            .fetch_manifest_digest(reference.oci(), &self.auth(reference))
            .await
            .map_err(self.error(reference))
    }

    /// Pulls the component of `reference`, or of its manifest `manifest_digest` when given
    /// (so that a tag moved between resolving and pulling cannot mix two versions). The
    /// manifest must have one `application/wasm` layer; its content is checked against the
    /// layer's digest.
    pub async fn pull(
        &self,
        reference: &PluginReference,
        manifest_digest: Option<&str>,
    ) -> Result<Pulled, RegistryError> {
        let oci: Reference = match manifest_digest {
            Some(digest) => reference.oci().clone_with_digest(digest.to_string()),
            None => reference.oci().clone(),
        };
        let error = self.error(reference);
        let (manifest, manifest_digest) = self
            .client
            .pull_image_manifest(&oci, &self.auth(reference))
            .await
            .map_err(&error)?;
        if let Some(expected) = reference.digest().or(oci.digest())
            && expected != manifest_digest
        {
            return Err(RegistryError::DigestMismatch {
                reference: reference.as_str().to_string(),
                expected: expected.to_string(),
                actual: manifest_digest,
            });
        }
        let layer = artifact::wasm_layer(reference.as_str(), &manifest)?;
        let declared = u64::try_from(layer.size).unwrap_or(0);
        let mut stream = self
            .client
            .pull_blob_stream(&oci, layer)
            .await
            .map_err(&error)?;
        // Read no more than the manifest declares, and check the content against its digest.
        let mut component = Vec::with_capacity(declared as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                let text = e.to_string();
                // The OCI client checks the digest as it streams: "Invalid digest. Expected
                // sha256:…, got sha256:…".
                match text.split_once(", got ") {
                    Some((_, actual)) if text.starts_with("Invalid digest") => {
                        RegistryError::DigestMismatch {
                            reference: reference.as_str().to_string(),
                            expected: layer.digest.clone(),
                            actual: actual.trim().to_string(),
                        }
                    }
                    _ => RegistryError::Registry {
                        reference: reference.as_str().to_string(),
                        reason: format!("reading the wasm layer failed: {text}"),
                    },
                }
            })?;
            if (component.len() + chunk.len()) as u64 > declared {
                return Err(RegistryError::Registry {
                    reference: reference.as_str().to_string(),
                    reason: format!(
                        "the wasm layer is longer than the {declared} bytes its manifest declares"
                    ),
                });
            }
            component.extend_from_slice(&chunk);
        }
        let content_digest = crate::runtime::digest_of(&component);
        if content_digest != layer.digest {
            return Err(RegistryError::DigestMismatch {
                reference: reference.as_str().to_string(),
                expected: layer.digest.clone(),
                actual: content_digest,
            });
        }
        Ok(Pulled {
            component,
            manifest_digest,
            content_digest,
        })
    }
}
