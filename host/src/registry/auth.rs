//! Registry credentials from a docker `config.json`: the format `docker login` writes and a
//! Kubernetes image pull secret holds (`.dockerconfigjson`):
//!
//! ```json
//! {"auths": {"registry.example.com": {"auth": "<base64 of user:password>"},
//!            "127.0.0.1:5000": {"username": "ci", "password": "secret"}}}
//! ```
//!
//! Keys may carry a scheme and a path (`https://index.docker.io/v1/`); Docker Hub's names are
//! one registry. Credential helpers (`credsStore`, `credHelpers`) are not run: a registry
//! without an entry is accessed anonymously.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::error::RegistryError;

/// Credentials by registry host.
#[derive(Clone, Default)]
pub struct Credentials {
    by_registry: HashMap<String, (String, String)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut registries: Vec<&String> = self.by_registry.keys().collect();
        registries.sort();
        f.debug_struct("Credentials")
            .field("registries", &registries)
            .finish()
    }
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl Credentials {
    /// No credentials: every registry anonymously.
    pub fn none() -> Self {
        Credentials::default()
    }

    /// Reads a docker `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, RegistryError> {
        let error = |reason: String| RegistryError::Credentials {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        Self::from_json(&text).map_err(error)
    }

    fn from_json(text: &str) -> Result<Self, String> {
        let not_a_config =
            |e: String| format!("not a docker config.json ({{\"auths\": {{...}}}}): {e}");
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| not_a_config(e.to_string()))?;
        if !value.is_object() {
            return Err(not_a_config("not a JSON object".to_string()));
        }
        let config: DockerConfig =
            serde_json::from_value(value).map_err(|e| not_a_config(e.to_string()))?;
        let mut by_registry = HashMap::new();
        for (key, entry) in config.auths {
            let pair = match (&entry.username, &entry.password, &entry.auth) {
                (Some(user), Some(password), _) => (user.clone(), password.clone()),
                (_, _, Some(auth)) => decode_auth(auth).ok_or_else(|| {
                    format!("the \"auth\" of {key:?} is not base64 of user:password")
                })?,
                _ => continue,
            };
            by_registry.insert(registry_key(&key), pair);
        }
        Ok(Credentials { by_registry })
    }

    /// The credentials for `registry` (`host[:port]`), anonymous when there are none.
    pub fn for_registry(&self, registry: &str) -> RegistryAuth {
        match self.by_registry.get(&registry_key(registry)) {
            Some((user, password)) => RegistryAuth::Basic(user.clone(), password.clone()),
            None => RegistryAuth::Anonymous,
        }
    }
}

fn decode_auth(auth: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A config key or a registry name reduced to `host[:port]`, Docker Hub's aliases to one.
fn registry_key(key: &str) -> String {
    let key = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auth_and_username_password_entries() {
        let credentials = Credentials::from_json(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "aHViOmh1YnNlY3JldA=="},
                "127.0.0.1:5000": {"username": "ci", "password": "s3cret"},
                "helper.example": {}
            }, "credsStore": "desktop"}"#,
        )
        .unwrap();
        assert!(matches!(
            credentials.for_registry("docker.io"),
            RegistryAuth::Basic(u, p) if u == "hub" && p == "hubsecret"
        ));
        assert!(matches!(
            credentials.for_registry("127.0.0.1:5000"),
            RegistryAuth::Basic(u, p) if u == "ci" && p == "s3cret"
        ));
        assert!(matches!(
            credentials.for_registry("helper.example"),
            RegistryAuth::Anonymous
        ));
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }

    #[test]
    fn a_broken_file_says_what_is_wrong() {
        assert!(
            Credentials::from_json("[]")
                .unwrap_err()
                .contains("not a docker config.json")
        );
        let error =
            Credentials::from_json(r#"{"auths": {"r.example": {"auth": "!!"}}}"#).unwrap_err();
        assert!(error.contains("not base64"), "{error}");
    }
}
