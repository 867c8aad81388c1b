//! [`JobHost`] of a manual run: config from the job then the cluster settings; state fenced
//! by the owner's epoch (the same rules as a scheduled run).

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::runtime::{HostFailure, JobHost};
use crate::scheduler::JobSpec;
use crate::settings::SettingsCache;
use crate::store::Store;

pub struct StoreJobHost {
    pub store: Store,
    pub job: Arc<JobSpec>,
    pub instance_id: String,
    pub settings: SettingsCache,
}

impl JobHost for StoreJobHost {
    fn config_get(&self, key: &str) -> Option<String> {
        self.job
            .config
            .get(key)
            .cloned()
            .or_else(|| self.settings.get().config.get(key).cloned())
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
