//! The `secrets` field of a job: config keys whose value is read from a file of the secrets
//! directory. Only names are written here; the values never pass through the API.

use std::collections::BTreeMap;

use super::error::FieldError;
use crate::runtime::check_secret_name;

/// Longest config key (as for `config`).
const MAX_KEY: usize = 256;

/// Most secrets one job may reference.
pub const MAX_SECRETS: usize = 64;

/// `secrets` of a job (with its `config`, when known): every key 1 to 256 characters and not
/// also a config key, every name a plain file name. A rejection names the field
/// `secrets.KEY` (or `secrets`).
pub fn check_secrets(
    secrets: &BTreeMap<String, String>,
    config: Option<&BTreeMap<String, String>>,
) -> Result<(), FieldError> {
    if secrets.len() > MAX_SECRETS {
        return Err(FieldError::new(
            "secrets",
            format!(
                "secrets has {} entries; the limit is {MAX_SECRETS}",
                secrets.len()
            ),
        ));
    }
    for (key, name) in secrets {
        if key.is_empty() || key.len() > MAX_KEY {
            return Err(FieldError::new(
                "secrets",
                format!("secrets key {key:?} must be 1 to {MAX_KEY} characters"),
            ));
        }
        let field = format!("secrets.{key}");
        check_secret_name(name).map_err(|e| FieldError::new(&field, format!("{field}: {e}")))?;
        if config.is_some_and(|c| c.contains_key(key)) {
            return Err(FieldError::new(
                &field,
                format!(
                    "{field}: {key:?} is also a config key; a key is either config or a secret"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_names_pass() {
        let secrets = map(&[("DB_PASSWORD", "db-password"), ("TOKEN", "api.token")]);
        let config = map(&[("mode", "loud")]);
        assert_eq!(check_secrets(&secrets, Some(&config)), Ok(()));
        assert_eq!(check_secrets(&secrets, None), Ok(()));
    }

    #[test]
    fn every_rejection_names_the_key() {
        for bad in [
            "",
            ".",
            "..",
            "..data",
            ".env",
            "a/b",
            "/etc/passwd",
            "a\\b",
        ] {
            let err = check_secrets(&map(&[("TOKEN", bad)]), None).unwrap_err();
            assert_eq!(err.field, "secrets.TOKEN", "{bad:?}: {err}");
            assert!(err.message.starts_with("secrets.TOKEN"), "{err}");
        }
        let err = check_secrets(&map(&[("", "x")]), None).unwrap_err();
        assert_eq!(err.field, "secrets");
    }

    #[test]
    fn a_key_in_config_too_is_refused() {
        let err = check_secrets(
            &map(&[("TOKEN", "token")]),
            Some(&map(&[("TOKEN", "plain")])),
        )
        .unwrap_err();
        assert_eq!(err.field, "secrets.TOKEN");
        assert!(err.message.contains("config"), "{err}");
    }

    #[test]
    fn too_many_secrets_are_refused() {
        let many: BTreeMap<String, String> = (0..=MAX_SECRETS)
            .map(|i| (format!("K{i}"), format!("s{i}")))
            .collect();
        assert_eq!(check_secrets(&many, None).unwrap_err().field, "secrets");
    }
}
