//! Plugin references: `REGISTRY/REPOSITORY:TAG` or `REGISTRY/REPOSITORY@sha256:DIGEST`, and the
//! `NAME=REF` pairs of `wasmcron serve --plugin-ref`.

use std::fmt;
use std::str::FromStr;

use oci_client::Reference;

use super::error::RegistryError;

/// An OCI reference with an explicit tag or digest (a reference without either, which other
/// tools read as `:latest`, is refused: a plugin should say which version it wants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginReference {
    text: String,
    reference: Reference,
}

impl PluginReference {
    /// The reference as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed reference.
    pub fn oci(&self) -> &Reference {
        &self.reference
    }

    /// The registry's `host[:port]`.
    pub fn registry(&self) -> &str {
        self.reference.resolve_registry()
    }

    /// The digest the reference is pinned to (`@sha256:…`); such a reference never changes.
    pub fn digest(&self) -> Option<&str> {
        self.reference.digest()
    }
}

impl fmt::Display for PluginReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for PluginReference {
    type Err = RegistryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| RegistryError::InvalidReference {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.contains("://") {
            return Err(invalid(
                "give REGISTRY/REPOSITORY:TAG (or @sha256:DIGEST), without a scheme",
            ));
        }
        // The tag follows the last ':' after the last '/' (a ':' before it is a port).
        let last_part = text.rsplit('/').next().unwrap_or(text);
        if !text.contains('@') && !last_part.contains(':') {
            return Err(invalid(
                "it has no tag or digest: add :TAG (e.g. :1.0) or @sha256:DIGEST",
            ));
        }
        let reference = Reference::from_str(text).map_err(|e| invalid(&e.to_string()))?;
        if let Some(digest) = reference.digest()
            && !is_sha256_digest(digest)
        {
            return Err(invalid(
                "the digest must be sha256: followed by 64 hex digits",
            ));
        }
        Ok(PluginReference {
            text: text.to_string(),
            reference,
        })
    }
}

fn is_sha256_digest(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// One `--plugin-ref NAME=REF`: serve the component at `reference` as plugin `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRef {
    pub name: String,
    pub reference: PluginReference,
}

impl FromStr for PluginRef {
    type Err = RegistryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| RegistryError::InvalidReference {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (name, reference) = text.split_once('=').ok_or_else(|| {
            invalid("expected NAME=REF, e.g. report=registry.example.com/jobs/report:1.0")
        })?;
        let name = name.trim();
        let valid_name = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err(invalid(
                "the plugin name must be letters, digits, '-', '_' or '.', not starting with '.'",
            ));
        }
        Ok(PluginRef {
            name: name.to_string(),
            reference: reference.parse()?,
        })
    }
}

/// Parses every `NAME=REF`; a name given twice is an error.
pub fn parse_plugin_refs(texts: &[String]) -> Result<Vec<PluginRef>, RegistryError> {
    let mut refs: Vec<PluginRef> = Vec::new();
    for text in texts.iter().filter(|t| !t.trim().is_empty()) {
        let plugin_ref: PluginRef = text.parse()?;
        if let Some(other) = refs.iter().find(|r| r.name == plugin_ref.name) {
            return Err(RegistryError::InvalidReference {
                text: text.clone(),
                reason: format!(
                    "plugin {:?} is already --plugin-ref {}={}",
                    other.name, other.name, other.reference
                ),
            });
        }
        refs.push(plugin_ref);
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_tag_or_a_digest_is_required() {
        let tagged: PluginReference = "127.0.0.1:5000/jobs/hello:v1".parse().unwrap();
        assert_eq!(tagged.registry(), "127.0.0.1:5000");
        assert_eq!(tagged.digest(), None);
        let pinned: PluginReference = format!("registry.example/jobs/hello@{DIGEST}")
            .parse()
            .unwrap();
        assert_eq!(pinned.digest(), Some(DIGEST));
        for text in [
            "127.0.0.1:5000/jobs/hello",
            "registry.example/hello",
            "hello",
            "",
            "https://registry.example/hello:1",
            "registry.example/hello@sha256:abc",
        ] {
            let error = text.parse::<PluginReference>().unwrap_err();
            assert!(
                matches!(error, RegistryError::InvalidReference { .. }),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn plugin_refs_are_name_equals_reference() {
        let refs = parse_plugin_refs(&[
            "report=registry.example/report:1".to_string(),
            "hello=127.0.0.1:5000/hello:v2".to_string(),
        ])
        .unwrap();
        assert_eq!(refs[0].name, "report");
        assert_eq!(refs[1].reference.as_str(), "127.0.0.1:5000/hello:v2");
        let error = parse_plugin_refs(&[
            "a=registry.example/a:1".to_string(),
            "a=registry.example/b:1".to_string(),
        ])
        .unwrap_err();
        assert!(
            error.to_string().contains("already --plugin-ref a="),
            "{error}"
        );
        for text in [
            "registry.example/a:1",
            "=registry.example/a:1",
            ".a=r.example/a:1",
            "a/b=r.example/a:1",
        ] {
            assert!(text.parse::<PluginRef>().is_err(), "{text}");
        }
    }
}
