//! API tokens as every replica holds them: the bootstrap admin token (from the environment)
//! and the named tokens of the database, by the SHA-256 of their secret. Checking a presented
//! token compares it against every known hash without stopping at a match, so the time taken
//! says nothing about which token (or which prefix) matched.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::store::{Actor, StoredToken};

/// Name under which the bootstrap token (`WASMCRON_API_TOKEN`) acts.
pub const BOOTSTRAP_NAME: &str = "bootstrap";

/// Prefix of every generated secret (makes leaked tokens easy to recognise and scan for).
pub const SECRET_PREFIX: &str = "wcr_";

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including token management.
    Admin,
    /// Every read (`GET`), no change, no token listing.
    Read,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Read => "read",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "read" => Some(Role::Read),
            _ => None,
        }
    }
}

/// Who made a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The token's name; `None` when the API requires no token.
    pub name: Option<String>,
    pub role: Role,
}

impl Identity {
    /// Who this is in the audit log: the token's name, `bootstrap`, or `anonymous` when the
    /// API requires no token.
    pub fn actor(&self) -> Actor {
        match self.name.as_deref() {
            None => Actor::Anonymous,
            Some(BOOTSTRAP_NAME) => Actor::Bootstrap,
            Some(name) => Actor::Token(name.to_owned()),
        }
    }
}

/// One named token, as cached.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    role: Role,
    digest: [u8; 32],
}

/// The named tokens of the database.
#[derive(Clone, Debug, Default)]
pub struct TokenSet {
    entries: Vec<Entry>,
}

/// SHA-256 of a secret, as stored (hex).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(digest(secret))
}

/// A new random secret: the prefix and 256 random bits in hex.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    format!("{SECRET_PREFIX}{}", hex::encode(bytes))
}

fn digest_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compare two secrets in time independent of where they differ (hashes first, so lengths
/// leak nothing either).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    digest_eq(&digest(a), &digest(b))
}

impl TokenSet {
    /// The set of stored tokens; rows that cannot be used (unknown role, bad hash) are skipped
    /// with a warning.
    pub fn from_rows(rows: &[StoredToken]) -> TokenSet {
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let role = Role::parse(&row.role);
            let digest = hex::decode(&row.sha256)
                .ok()
                .and_then(|d| <[u8; 32]>::try_from(d).ok());
            match (role, digest) {
                (Some(role), Some(digest)) => entries.push(Entry {
                    name: row.name.clone(),
                    role,
                    digest,
                }),
                _ => tracing::warn!(token = %row.name, "ignoring an unusable stored API token"),
            }
        }
        TokenSet { entries }
    }

    /// The same set without the token `name`.
    pub fn without(&self, name: &str) -> TokenSet {
        TokenSet {
            entries: self
                .entries
                .iter()
                .filter(|e| e.name != name)
                .cloned()
                .collect(),
        }
    }

    /// How many named tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The identity of a presented secret: the bootstrap token, or a named token. Compares
    /// against every candidate in constant time per candidate, without an early exit.
    pub fn identify(&self, presented: &str, bootstrap: Option<&str>) -> Option<Identity> {
        let presented = digest(presented);
        let mut found: Option<Identity> = None;
        if let Some(bootstrap) = bootstrap
            && digest_eq(&presented, &digest(bootstrap))
        {
            found = Some(Identity {
                name: Some(BOOTSTRAP_NAME.to_string()),
                role: Role::Admin,
            });
        }
        for entry in &self.entries {
            if digest_eq(&presented, &entry.digest) && found.is_none() {
                found = Some(Identity {
                    name: Some(entry.name.clone()),
                    role: entry.role,
                });
            }
        }
        found
    }
}

/// Checks a token name: 1 to 64 characters of letters, digits, `.`, `_` and `-`, and not the
/// bootstrap token's name nor another name the audit log gives an actor that is no token.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a token name has 1 to 64 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{c:?} is not allowed in a token name (letters, digits, '.', '_' and '-')"
        ));
    }
    if name == BOOTSTRAP_NAME {
        return Err(format!(
            "{BOOTSTRAP_NAME:?} is the name of the bootstrap token (WASMCRON_API_TOKEN)"
        ));
    }
    if [Actor::Anonymous, Actor::System, Actor::JobsFile]
        .iter()
        .any(|actor| actor.as_str() == name)
    {
        return Err(format!(
            "{name:?} is reserved: the audit log names changes not made with a token so"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, role: &str, secret: &str) -> StoredToken {
        StoredToken {
            name: name.into(),
            role: role.into(),
            sha256: hash_secret(secret),
            created_at_ms: 0,
            created_by: None,
            last_used_ms: None,
        }
    }

    #[test]
    fn secrets_are_identified_by_their_hash() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 64);
        let set = TokenSet::from_rows(&[row("ci", "read", &a), row("ops", "admin", &b)]);
        assert_eq!(
            set.identify(&a, None),
            Some(Identity {
                name: Some("ci".into()),
                role: Role::Read
            })
        );
        assert_eq!(set.identify(&b, None).unwrap().role, Role::Admin);
        assert_eq!(set.identify("wcr_nope", None), None);
        assert_eq!(set.identify(&a[..a.len() - 1], None), None);
        let boot = set
            .identify("bootstrap-secret", Some("bootstrap-secret"))
            .unwrap();
        assert_eq!(boot.name.as_deref(), Some(BOOTSTRAP_NAME));
        assert_eq!(boot.role, Role::Admin);
    }

    #[test]
    fn unusable_rows_are_skipped() {
        let mut bad = row("x", "root", "s");
        let set = TokenSet::from_rows(&[bad.clone()]);
        assert!(set.is_empty());
        bad.role = "read".into();
        bad.sha256 = "zz".into();
        assert!(TokenSet::from_rows(&[bad]).is_empty());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("ci-reader.v2_x").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
        assert_eq!(
            check_name("a b").unwrap_err(),
            "' ' is not allowed in a token name (letters, digits, '.', '_' and '-')"
        );
        assert!(check_name("bootstrap").is_err());
        for reserved in ["anonymous", "system", "jobs-file"] {
            assert!(check_name(reserved).is_err(), "{reserved}");
        }
    }
}
