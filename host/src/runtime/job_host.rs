//! What a run may ask of the host beyond WASI: its job's config and durable state. The
//! scheduler implements [`JobHost`] over the store (with fencing); tests implement it in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;

use super::secrets::SecretError;

/// Largest value `state-set` accepts.
pub const MAX_STATE_VALUE_BYTES: usize = 1 << 20;
/// Longest key `state-get`/`state-set`/`config-get` accept.
pub const MAX_KEY_BYTES: usize = 256;

/// A failure of the host side of `state-get`/`state-set` that is not the plugin's doing
/// (the database is unreachable): the run fails with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HostFailure(pub String);

/// Host services of one run.
pub trait JobHost: Send + Sync {
    /// A config value: the job's secrets (read now), its own config, then the cluster
    /// settings. `Err` (a secret that cannot be read) fails the run with that message.
    fn config_get(&self, key: &str) -> Result<Option<String>, SecretError>;
    /// Durable state of this job.
    fn state_get<'a>(&'a self, key: &'a str)
    -> BoxFuture<'a, Result<Option<Vec<u8>>, HostFailure>>;
    /// Set durable state; `Ok(Err(reason))` when refused (the run was fenced).
    fn state_set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Result<(), String>, HostFailure>>;
}

/// An in-memory [`JobHost`]: config from a map, state in a map. For tooling and tests.
#[derive(Debug, Default)]
pub struct MemoryJobHost {
    pub config: HashMap<String, String>,
    pub state: Mutex<HashMap<String, Vec<u8>>>,
    /// When set, `state-set` is refused with this reason (a fenced run).
    pub fenced: Option<String>,
}

impl JobHost for MemoryJobHost {
    fn config_get(&self, key: &str) -> Result<Option<String>, SecretError> {
        Ok(self.config.get(key).cloned())
    }
    fn state_get<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, HostFailure>> {
        Box::pin(async move { Ok(self.state.lock().expect("state lock").get(key).cloned()) })
    }
    fn state_set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Result<(), String>, HostFailure>> {
        Box::pin(async move {
            if let Some(reason) = &self.fenced {
                return Ok(Err(reason.clone()));
            }
            self.state
                .lock()
                .expect("state lock")
                .insert(key.to_string(), value);
            Ok(Ok(()))
        })
    }
}
