//! What a run of a job gets from the host: its [`RunRequest`] (tick, limits, allowed hosts)
//! and its [`JobHost`] over the store — the same for scheduled and manual runs.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::jobs::JobSpec;
use crate::runtime::{
    HostFailure, JobHost, LogLimits, Redactor, RunRequest, SecretError, SecretsDir, Tick,
};
use crate::settings::SettingsCache;
use crate::store::Store;

/// The request for one run of `job` at `tick_ms` on this replica: the job's own limits and
/// allowed hosts, else the cluster defaults; its secrets read from `secrets`.
pub fn run_request(
    (store, settings, secrets): (&Store, &SettingsCache, &SecretsDir),
    instance_id: &str,
    job: &Arc<JobSpec>,
    tick_ms: i64,
    catch_up: bool,
) -> RunRequest {
    let current = settings.get();
    let allowed_hosts = if job.allowed_hosts.is_empty() {
        current.default_allowed_hosts.clone()
    } else {
        job.allowed_hosts.clone()
    };
    // The values of every secret the job references are kept out of what the run produces,
    // whether it reads them or not; a value read later (rotated meanwhile) is added then.
    let redactor = Redactor::default();
    redactor.add_current(secrets, &job.secrets);
    RunRequest {
        tick: Tick {
            job_id: job.id.clone(),
            job_name: job.name.clone(),
            scheduled_at: tick_ms,
            attempt: 1,
            catch_up,
            instance_id: instance_id.to_string(),
            input: job.input.clone(),
        },
        timeout: job.timeout.unwrap_or(current.default_timeout),
        memory_limit: job.memory_limit.unwrap_or(current.default_memory_limit),
        allowed_hosts,
        job: Arc::new(StoreJobHost {
            store: store.clone(),
            job: job.clone(),
            instance_id: instance_id.to_string(),
            settings: settings.clone(),
            secrets: secrets.clone(),
            redactor: redactor.clone(),
        }),
        log_limits: LogLimits::default(),
        redactor,
    }
}

/// [`JobHost`] over the store: config from the job's secrets (read at each call), the job,
/// then the cluster settings; state fenced by the run's epoch.
struct StoreJobHost {
    store: Store,
    job: Arc<JobSpec>,
    instance_id: String,
    settings: SettingsCache,
    secrets: SecretsDir,
    redactor: Redactor,
}

impl JobHost for StoreJobHost {
    fn config_get(&self, key: &str) -> Result<Option<String>, SecretError> {
        if let Some(name) = self.job.secrets.get(key) {
            let value = self.secrets.read(key, name)?;
            self.redactor.add(&value);
            return Ok(Some(value));
        }
        Ok(self
            .job
            .config
            .get(key)
            .cloned()
            .or_else(|| self.settings.get().config.get(key).cloned()))
    }

    fn state_get<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, HostFailure>> {
        Box::pin(async move {
            self.store
                .state_get(&self.job.id, key)
                .await
                .map_err(|e| HostFailure(format!("state-get failed: {e}")))
        })
    }

    fn state_set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Result<(), String>, HostFailure>> {
        Box::pin(async move {
            match self
                .store
                .state_set(&self.job.id, key, &value, &self.instance_id, self.job.epoch)
                .await
            {
                Ok(true) => Ok(Ok(())),
                Ok(false) => {
                    crate::metrics::global().fenced("state");
                    Ok(Err(
                        "state-set refused: this run lost ownership of its job (fenced)"
                            .to_string(),
                    ))
                }
                Err(e) => Err(HostFailure(format!("state-set failed: {e}"))),
            }
        })
    }
}
