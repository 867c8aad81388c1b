//! The wasm OCI artifact layout, as wasmCloud, `wkg` and the Bytecode Alliance's `oci-wasm`
//! use it: an OCI image manifest with one `application/wasm` layer (the component) and an
//! `application/vnd.wasm.config.v0+json` config describing it.

use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde::Serialize;

use super::error::RegistryError;

/// Media type of the layer holding the component.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// Media type of the manifest's config.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// Largest component a pull accepts.
pub const MAX_COMPONENT_BYTES: u64 = 256 << 20;

/// The config of a wasm artifact (`application/vnd.wasm.config.v0+json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WasmConfig {
    created: String,
    author: Option<String>,
    architecture: &'static str,
    os: &'static str,
    layer_digests: Vec<String>,
    component: ComponentInfo,
}

/// What the config says of the component: the names of its imports and exports.
#[derive(Debug, Serialize)]
struct ComponentInfo {
    exports: Vec<String>,
    imports: Vec<String>,
    target: Option<String>,
}

/// The layer and the config of a component whose content digest is `digest`.
pub fn layer_and_config(
    component: Vec<u8>,
    digest: &str,
    imports: Vec<String>,
    exports: Vec<String>,
) -> (ImageLayer, Config) {
    let config = WasmConfig {
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        author: None,
        architecture: "wasm",
        os: "wasip2",
        layer_digests: vec![digest.to_string()],
        component: ComponentInfo {
            exports,
            imports,
            target: Some("wasmcron:plugin/job@0.1.0".to_string()),
        },
    };
    let config = serde_json::to_vec(&config).expect("the config serializes");
    (
        ImageLayer::new(component, WASM_LAYER_MEDIA_TYPE.to_string(), None),
        Config::new(config, WASM_CONFIG_MEDIA_TYPE.to_string(), None),
    )
}

/// The manifest's one wasm layer, within the size limit.
pub fn wasm_layer<'m>(
    reference: &str,
    manifest: &'m OciImageManifest,
) -> Result<&'m OciDescriptor, RegistryError> {
    let wasm: Vec<&OciDescriptor> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == WASM_LAYER_MEDIA_TYPE)
        .collect();
    let layer = match wasm.as_slice() {
        [layer] => *layer,
        [] => {
            let layers: Vec<&str> = manifest
                .layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect();
            return Err(RegistryError::NoWasmLayer {
                reference: reference.to_string(),
                layers: if layers.is_empty() {
                    "none".to_string()
                } else {
                    layers.join(", ")
                },
            });
        }
        several => {
            return Err(RegistryError::SeveralWasmLayers {
                reference: reference.to_string(),
                count: several.len(),
            });
        }
    };
    let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
    if size > MAX_COMPONENT_BYTES {
        return Err(RegistryError::TooLarge {
            reference: reference.to_string(),
            size,
            limit: MAX_COMPONENT_BYTES,
        });
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(media_types: &[&str]) -> OciImageManifest {
        OciImageManifest {
            layers: media_types
                .iter()
                .map(|m| OciDescriptor {
                    media_type: m.to_string(),
                    size: 10,
                    ..OciDescriptor::default()
                })
                .collect(),
            ..OciImageManifest::default()
        }
    }

    #[test]
    fn exactly_one_wasm_layer_is_wanted() {
        wasm_layer("r", &manifest(&["application/wasm"])).unwrap();
        let error = wasm_layer(
            "r",
            &manifest(&["application/vnd.oci.image.layer.v1.tar+gzip"]),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "r: the manifest has no application/wasm layer (layers: \
             application/vnd.oci.image.layer.v1.tar+gzip); is it a wasm component artifact?"
        );
        assert!(matches!(
            wasm_layer("r", &manifest(&["application/wasm", "application/wasm"])),
            Err(RegistryError::SeveralWasmLayers { count: 2, .. })
        ));
    }

    #[test]
    fn the_config_names_the_layer_and_the_world() {
        let (layer, config) = layer_and_config(
            b"\0asm".to_vec(),
            "sha256:ab",
            vec!["i".into()],
            vec!["run".into()],
        );
        assert_eq!(layer.media_type, WASM_LAYER_MEDIA_TYPE);
        assert_eq!(config.media_type, WASM_CONFIG_MEDIA_TYPE);
        let json: serde_json::Value = serde_json::from_slice(&config.data).unwrap();
        assert_eq!(json["layerDigests"], serde_json::json!(["sha256:ab"]));
        assert_eq!(json["os"], "wasip2");
        assert_eq!(json["component"]["exports"], serde_json::json!(["run"]));
    }
}
