//! The owner's side of manual triggers: take the triggers of the jobs this replica owns and
//! run them.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use super::manual_run::start;
use crate::replica::Replica;

/// How often the owner looks for triggers accepted by other replicas.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Run until `replica` is dropped.
pub async fn run(replica: Weak<Replica>, wake: Arc<Notify>) {
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        let Some(replica) = replica.upgrade() else {
            return;
        };
        let triggers = match replica
            .store
            .owned_triggers(&replica.options.instance_id)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read manual triggers");
                continue;
            }
        };
        for trigger in triggers {
            start(&replica, trigger).await;
        }
    }
}
